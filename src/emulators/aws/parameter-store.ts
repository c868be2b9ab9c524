/**
 * The SSM Parameter Store data model of the emulator: parameters per region with numbered versions,
 * labels and a tier, and the `name:version` / `name:label` / ARN selector syntax that GetParameter(s)
 * accept. Protocol-free, like the secret store; name and tier rules live in parameter-names.ts and
 * parameter-tiers.ts.
 */
import { awsError } from './aws-error.js';
import { assertWritableName } from './parameter-names.js';
import { assertValueLength, resolveTier, type ParameterTier, type StoredTier } from './parameter-tiers.js';
import type { ParameterType } from './types.js';

export interface ParameterVersion {
  readonly version: number;
  readonly value: string;
  readonly type: ParameterType;
  readonly labels: Set<string>;
  readonly lastModifiedDate: number;
}

export interface ParameterRecord {
  readonly name: string;
  readonly region: string;
  readonly arn: string;
  /** The parameter's tier, which only ever moves up (Standard to Advanced). */
  tier: StoredTier;
  readonly versions: ParameterVersion[];
}

/** A parsed GetParameter(s) name: the stored name plus an optional `:selector`. */
export interface ParameterRef {
  name: string;
  /** As written after the colon: a version number or a label. */
  selector?: string;
}

const LABEL_PATTERN = /^[a-zA-Z0-9_.-]{1,100}$/;
const MAX_LABELS_PER_VERSION = 10;
export const PARAMETER_TYPES: readonly ParameterType[] = ['String', 'SecureString', 'StringList'];

export class ParameterStore {
  readonly #byRegion = new Map<string, Map<string, ParameterRecord>>();
  readonly #accountId: string;
  readonly #now: () => number;

  constructor(options: { accountId: string; now: () => number }) {
    this.#accountId = options.accountId;
    this.#now = options.now;
  }

  #region(region: string): Map<string, ParameterRecord> {
    let parameters = this.#byRegion.get(region);
    if (parameters === undefined) {
      parameters = new Map();
      this.#byRegion.set(region, parameters);
    }
    return parameters;
  }

  arnOf(region: string, name: string): string {
    return `arn:aws:ssm:${region}:${this.#accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  }

  /**
   * Splits `name[:selector]` or `arn:aws:ssm:<region>:<account>:parameter/<name>[:selector]`.
   * An ARN of another region or account yields undefined (it cannot resolve here).
   */
  parseRef(region: string, input: string): ParameterRef | undefined {
    let path = input;
    let fromArn = false;
    if (input.startsWith('arn:')) {
      const parts = input.split(':');
      if (parts.length < 6 || parts[2] !== 'ssm' || parts[3] !== region || parts[4] !== this.#accountId) return undefined;
      const resource = parts.slice(5).join(':');
      if (!resource.startsWith('parameter/')) return undefined;
      path = resource.slice('parameter/'.length);
      fromArn = true;
    }
    const colon = path.indexOf(':');
    let name = colon < 0 ? path : path.slice(0, colon);
    // An ARN drops the leading slash of a name: `/a/b` and `/a` become `parameter/a/b` and `parameter/a`.
    // A hierarchical name always starts with `/`; a flat one may or may not, so prefer what exists.
    if (fromArn && (name.includes('/') || !this.#region(region).has(name))) name = `/${name}`;
    return colon < 0 ? { name } : { name, selector: path.slice(colon + 1) };
  }

  get(region: string, name: string): ParameterRecord | undefined {
    return this.#region(region).get(name);
  }

  /** The version a ref selects, or undefined when the name, version or label does not exist. */
  resolve(region: string, ref: ParameterRef): { record: ParameterRecord; version: ParameterVersion } | undefined {
    const record = this.get(region, ref.name);
    if (record === undefined) return undefined;
    const { selector } = ref;
    let version: ParameterVersion | undefined;
    if (selector === undefined) version = record.versions.at(-1);
    else if (/^[0-9]+$/.test(selector)) version = record.versions.find((v) => v.version === Number(selector));
    else version = record.versions.find((v) => v.labels.has(selector));
    return version === undefined ? undefined : { record, version };
  }

  /**
   * PutParameter. An overwrite may change the type (String to SecureString and back): the Terraform
   * provider's acceptance test TestAccAWSSSMParameter_updateType does exactly that against AWS with
   * an overwriting PutParameter, so HierarchyTypeMismatchException is not raised for it.
   */
  put(options: {
    region: string;
    name: string;
    value: string;
    type?: ParameterType;
    tier?: ParameterTier;
    overwrite: boolean;
  }): { version: ParameterVersion; tier: StoredTier } {
    const { region, name, value } = options;
    assertValueLength(value);
    assertWritableName(name, this.arnOf(region, name));
    if (options.type !== undefined && !PARAMETER_TYPES.includes(options.type)) {
      throw awsError('ValidationException', `1 validation error detected: Value '${options.type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`);
    }
    const parameters = this.#region(region);
    let record = parameters.get(name);
    if (record !== undefined && !options.overwrite) {
      throw awsError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    }
    if (record === undefined && options.type === undefined) {
      throw awsError('ValidationException', 'A parameter type is required when you create a parameter.');
    }
    const tier = resolveTier(options.tier, record?.tier, value);
    if (record === undefined) {
      record = { name, region, arn: this.arnOf(region, name), tier, versions: [] };
      parameters.set(name, record);
    }
    record.tier = tier;
    const previous = record.versions.at(-1);
    const version: ParameterVersion = {
      version: (previous?.version ?? 0) + 1,
      value,
      type: options.type ?? previous?.type ?? 'String',
      labels: new Set(),
      lastModifiedDate: this.#now(),
    };
    record.versions.push(version);
    return { version, tier };
  }

  /** DeleteParameter: the parameter and all its versions and labels; false when there is none. */
  delete(region: string, name: string): boolean {
    return this.#region(region).delete(name);
  }

  /** LabelParameterVersion: moves each valid label onto the version; returns the invalid ones. */
  label(options: { region: string; name: string; version?: number; labels: string[] }): { invalid: string[]; version: number } {
    const record = this.get(options.region, options.name);
    if (record === undefined) throw awsError('ParameterNotFound', 'Parameter not found.');
    const target =
      options.version === undefined ? record.versions.at(-1) : record.versions.find((v) => v.version === options.version);
    if (target === undefined) {
      throw awsError('ParameterVersionNotFound', `Systems Manager could not find version ${options.version} of ${options.name}.`);
    }
    const invalid = options.labels.filter((l) => !isValidLabel(l));
    const valid = options.labels.filter((l) => isValidLabel(l) && !target.labels.has(l));
    if (target.labels.size + valid.length > MAX_LABELS_PER_VERSION) {
      throw awsError('ParameterVersionLabelLimitExceeded', 'A parameter version can have maximum 10 labels.');
    }
    for (const label of valid) {
      for (const v of record.versions) v.labels.delete(label);
      target.labels.add(label);
    }
    return { invalid, version: target.version };
  }
}

function isValidLabel(label: string): boolean {
  return LABEL_PATTERN.test(label) && !/^[0-9]/.test(label) && !/^(aws|ssm)/i.test(label);
}
