/**
 * Generates the README's configuration reference from SERVE_FLAGS, so the documented flags,
 * environment variables and defaults are the ones the binary accepts. A test fails when the README
 * section between the markers differs from `renderConfigReference()`; `secretlet docs
 * config-reference --write README.md` rewrites it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { FlagDefinition } from './serve-flags.js';
import { SERVE_FLAGS, flagSyntax } from './serve-flags.js';

export const CONFIG_REFERENCE_BEGIN = '<!-- BEGIN config-reference: generated from src/cli/serve-flags.ts by src/cli/config-reference.ts; do not edit -->';
export const CONFIG_REFERENCE_END = '<!-- END config-reference -->';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function flagCell(f: FlagDefinition): string {
  return `\`${flagSyntax(f)}\``;
}

/** The Markdown table (without markers) of every `secretlet serve` flag. */
export function renderConfigReference(flags: readonly FlagDefinition[] = SERVE_FLAGS): string {
  const rows = flags.map((f) => `| ${flagCell(f)} | \`${f.env}\` | \`${cell(f.defaultText)}\` | ${cell(f.description)} |`);
  return [
    'Every flag of `secretlet serve` can also be set through its environment variable; a flag on the command line wins.',
    "Durations are Go's (`500ms`, `90s`, `2m`, `1m30s`, `1.5h`; units `ns`, `us`, `ms`, `s`, `m`, `h`; a bare number is seconds); sizes take `Ki`, `Mi` or `Gi`.",
    '',
    '| flag | environment | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** `text` with the part between the markers replaced by `section`; throws when the markers are missing. */
export function replaceConfigReference(text: string, section: string = renderConfigReference()): string {
  const begin = text.indexOf(CONFIG_REFERENCE_BEGIN);
  const end = text.indexOf(CONFIG_REFERENCE_END);
  if (begin < 0 || end < begin) throw new Error(`the configuration reference markers are missing (${CONFIG_REFERENCE_BEGIN} … ${CONFIG_REFERENCE_END})`);
  return text.slice(0, begin + CONFIG_REFERENCE_BEGIN.length) + '\n' + section + '\n' + text.slice(end);
}

/** The current section between the markers, or undefined without markers. */
export function extractConfigReference(text: string): string | undefined {
  const begin = text.indexOf(CONFIG_REFERENCE_BEGIN);
  const end = text.indexOf(CONFIG_REFERENCE_END);
  if (begin < 0 || end < begin) return undefined;
  return text.slice(begin + CONFIG_REFERENCE_BEGIN.length, end).replace(/^\n/, '').replace(/\n$/, '');
}

/** Rewrites the section in the file at `path`; returns whether it changed. */
export async function writeConfigReference(path: string): Promise<boolean> {
  const before = await readFile(path, 'utf8');
  const after = replaceConfigReference(before);
  if (after === before) return false;
  await writeFile(path, after);
  return true;
}
