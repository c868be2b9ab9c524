/**
 * `secretlet validate <file.yaml>…`: checks SecretProviderClass files offline with exactly the
 * validation a mount runs, for users' CI. Multi-document YAML is supported; non-SPC documents are
 * skipped. Exit code 1 on the first file with an error.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { validateSecretProviderClass } from '../core/spc/validate-spc.js';

export async function runValidate(files: string[], options: { region?: string; out: (l: string) => void; err: (l: string) => void }): Promise<number> {
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      options.err(`${file}: cannot read: ${(e as Error).message}`);
      return 1;
    }
    const docs = parseAllDocuments(text);
    let checked = 0;
    for (const [i, doc] of docs.entries()) {
      if (doc.errors.length > 0) {
        options.err(`${file}: document ${i + 1}: YAML error: ${doc.errors[0]!.message}`);
        return 1;
      }
      const value = doc.toJS() as { kind?: string } | null;
      if (value === null || value.kind !== 'SecretProviderClass') continue;
      checked += 1;
      const report = validateSecretProviderClass(value, options.region ? { region: options.region } : {});
      const name = (value as { metadata?: { name?: string } }).metadata?.name ?? `document ${i + 1}`;
      for (const note of report.notes) options.out(`${file}: ${name}: note: ${note}`);
      if (!report.ok) {
        for (const e of report.errors) options.err(`${file}: ${name}: ${e.code} ${e.field ?? ''}: ${e.message}`.replace('  ', ' '));
        return 1;
      }
      options.out(`${file}: ${name}: ok (${report.files.length} files: ${report.files.join(', ')})`);
    }
    if (checked === 0) {
      options.err(`${file}: no SecretProviderClass found`);
      return 1;
    }
  }
  return 0;
}
