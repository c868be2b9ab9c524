/**
 * Kubernetes' name rules (apimachinery util/validation) with its own messages: what the API server
 * says of a Secret data key, a DNS subdomain (a Secret's name, a key prefix), a DNS label (a
 * namespace's name), a qualified name (a label or annotation key) and a label value. One copy serves `secretlet validate`, which warns of
 * what a cluster will refuse, and the local API server emulator, which refuses it.
 */

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME_FORMAT =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** apimachinery's shape for most rules: a length limit, then a pattern, each with its own message. */
function lengthAndPatternErrors(value: string, maxLength: number, pattern: RegExp, patternMessage: string): string[] {
  const errors: string[] = [];
  if (value.length > maxLength) errors.push(`must be no more than ${maxLength} characters`);
  if (!pattern.test(value)) errors.push(patternMessage);
  return errors;
}

/** validation.IsConfigMapKey: a Secret's (or ConfigMap's) data key. */
export function configKeyErrors(key: string): string[] {
  const errors = lengthAndPatternErrors(
    key,
    253,
    CONFIG_KEY,
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
  );
  if (key === '.') errors.push("must not be '.'");
  else if (key === '..') errors.push("must not be '..'");
  else if (key.startsWith('..')) errors.push("must not start with '..'");
  return errors;
}

/** validation.IsDNS1123Subdomain. */
export function dns1123SubdomainErrors(value: string): string[] {
  return lengthAndPatternErrors(
    value,
    253,
    DNS1123_SUBDOMAIN,
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  );
}

/** validation.IsDNS1123Label: a namespace's name. */
export function dns1123LabelErrors(value: string): string[] {
  return lengthAndPatternErrors(
    value,
    63,
    DNS1123_LABEL,
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  );
}

/** validation.IsQualifiedName: `[DNS-subdomain prefix/]name`, a label key (an annotation key lowercased). */
export function qualifiedNameErrors(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) {
    return [`a qualified name ${QUALIFIED_NAME_FORMAT} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  const errors: string[] = [];
  const name = parts[parts.length - 1] ?? '';
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix === '') errors.push('prefix part must be non-empty');
    else errors.push(...dns1123SubdomainErrors(prefix).map((e) => `prefix part ${e}`));
  }
  if (name === '') errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push('name part must be no more than 63 characters');
  if (name !== '' && !QUALIFIED_NAME.test(name)) errors.push(`name part ${QUALIFIED_NAME_FORMAT}`);
  return errors;
}

/** validation.IsValidLabelValue (empty is valid). */
export function labelValueErrors(value: string): string[] {
  return lengthAndPatternErrors(
    value,
    63,
    LABEL_VALUE,
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  );
}
