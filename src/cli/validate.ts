/**
 * `secretlet validate <file.yaml>…`: checks SecretProviderClass files offline with exactly the
 * validation a mount runs, for users' CI. Multi-document YAML is supported, and so is a `kind: List`
 * (what `kubectl get secretproviderclasses -A -o yaml` prints); non-SPC objects are skipped. Every file is checked (so one CI run shows every problem); the exit code is 1 when any
 * file had an error. Error lines are `<file>: <spc>: <CODE> <field>: <message>`, where `<message>` is
 * the text a mount of the same object returns to kubelet or to the driver.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { validateSecretProviderClass } from '../core/spc/validate-spc.js';
import { MAX_YAML_DEPTH, yamlNestingDepth } from '../core/spc/yaml-depth.js';

export interface ValidateCommandOptions {
  region?: string;
  out: (line: string) => void;
  err: (line: string) => void;
}

interface ManifestObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

/** The objects of one YAML document: itself, or the items of a `kind: List` (kubectl's `-o yaml` of several). */
function objectsOf(value: unknown): ManifestObject[] {
  if (typeof value !== 'object' || value === null) return [];
  const object = value as ManifestObject & { items?: unknown };
  if (object.kind === 'List' && Array.isArray(object.items)) {
    return object.items.filter((item): item is ManifestObject => typeof item === 'object' && item !== null);
  }
  return [object];
}

/** Validates one file; returns whether it is clean. */
async function validateFile(file: string, options: ValidateCommandOptions): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    options.err(`${file}: cannot read: ${(e as Error).message}`);
    return false;
  }
  // Checked before composing, which recurses: a deeply nested file would overflow the stack.
  if (yamlNestingDepth(text) > MAX_YAML_DEPTH) {
    options.err(`${file}: YAML error: nested deeper than ${MAX_YAML_DEPTH} levels`);
    return false;
  }
  let ok = true;
  let checked = 0;
  let broken = 0;
  for (const [i, doc] of parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0) {
      // The first line (it ends with the position); the yaml package appends an excerpt of the file.
      options.err(`${file}: document ${i + 1}: YAML error: ${(doc.errors[0]!.message.split('\n')[0] ?? '').replace(/:$/, '')}`);
      // The other documents are still checked: every problem of the file in one run.
      ok = false;
      broken += 1;
      continue;
    }
    for (const [j, value] of objectsOf(doc.toJS()).entries()) {
      if (value.kind !== 'SecretProviderClass') continue;
      checked += 1;
      const report = validateSecretProviderClass(value, options.region ? { region: options.region } : {});
      // namespace/name when the file says (kubectl's `-A` output does), so two same-named SPCs differ.
      const metaName = value.metadata?.name === undefined ? undefined : [value.metadata.namespace, value.metadata.name].filter(Boolean).join('/');
      const name = metaName ?? `document ${i + 1}${value === doc.toJS() ? '' : ` item ${j + 1}`}`;
      for (const note of report.notes) options.out(`${file}: ${name}: note: ${note}`);
      if (!report.ok) {
        ok = false;
        for (const e of report.errors) options.err(`${file}: ${name}: ${e.code}${e.field ? ` ${e.field}` : ''}: ${e.message}`);
        continue;
      }
      options.out(`${file}: ${name}: ok (${report.files.length} ${report.files.length === 1 ? 'file' : 'files'}: ${report.files.join(', ')})`);
    }
  }
  if (checked === 0 && broken === 0) {
    options.err(`${file}: no SecretProviderClass found`);
    return false;
  }
  return ok;
}

export async function runValidate(files: string[], options: ValidateCommandOptions): Promise<number> {
  let failed = 0;
  for (const file of files) {
    if (!(await validateFile(file, options))) failed += 1;
  }
  if (failed > 0 && files.length > 1) options.err(`${failed} of ${files.length} files failed validation`);
  return failed > 0 ? 1 : 0;
}
