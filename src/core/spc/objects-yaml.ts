/**
 * Decodes the `objects` parameter the way ASCP does (sigs.k8s.io/yaml: YAML 1.1 → JSON → Go
 * structs; aws-provider.md §4), so every SPC that mounts with ASCP reads the same here:
 * - the top level must be a sequence; "", `null` and `[]` are zero objects;
 * - field names match case-insensitively (an exact-case key wins), unknown fields are ignored;
 * - scalars in string fields become strings (`0644` → "420", `yes` → "true", `1.5` → "1.5");
 *   null leaves a field "";
 * - a null list element is kept as `null` (the validator reports it when it reaches it, in order);
 * - syntax and type errors fail the whole list: `Failed to load SecretProviderClass: ...`;
 * - only the first YAML document is read; anything after a `---` is ignored.
 * The structure comes from the `yaml` package (YAML 1.1 mode, anchors, merge keys); plain scalars
 * are resolved by yaml-scalar.ts with go-yaml v2's rules.
 */
import { Composer, LineCounter, Parser, Scalar, isAlias, isMap, isPair, isScalar, isSeq, visit } from 'yaml';
import type { Alias, Document, Node as YamlNode, YAMLMap } from 'yaml';
import { invalidArgument } from '../errors.js';
import type { SecretletError } from '../errors.js';
import { MAX_YAML_DEPTH, tokensNestingDepth } from './yaml-depth.js';
import { resolvePlainScalar, scalarJsonKind, scalarToGoString } from './yaml-scalar.js';
import type { YamlScalar } from './yaml-scalar.js';

export interface RawJmesEntry {
  path: string;
  objectAlias: string;
  filePermission: string;
}

export interface RawFailoverObject {
  objectName: string;
  objectVersion: string;
  objectVersionLabel: string;
}

/** One `objects` entry as written, every string field "" when absent. */
export interface RawObjectEntry {
  objectName: string;
  objectAlias: string;
  objectVersion: string;
  objectVersionLabel: string;
  objectType: string;
  filePermission: string;
  jmesPath: RawJmesEntry[];
  failoverObject: RawFailoverObject;
}

const LIST_TYPE = '[]*provider.SecretDescriptor';

function loadError(detail: string): SecretletError {
  return invalidArgument('InvalidObjects', `Failed to load SecretProviderClass: ${detail} (objects)`, 'objects');
}

function typeError(kind: string, target: string): SecretletError {
  return loadError(`error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${kind} into ${target}`);
}

/**
 * One parse: the document (to follow aliases) and the entries of every mapping already read, so
 * that merge keys over shared anchors (`<<: [*a, *a]` nested) cost linear, not exponential, time.
 */
interface ParseContext {
  /** Each alias's anchored node, found in one pass (the yaml package's Alias.resolve walks the whole document per alias). */
  targets: Map<Alias, unknown>;
  entries: WeakMap<YAMLMap, Map<string, unknown>>;
}

/** A decoded node: aliases followed, scalars resolved. */
type Value = { kind: 'map'; node: YAMLMap } | { kind: 'seq'; items: unknown[] } | { kind: 'scalar'; scalar: YamlScalar };

function scalarOf(node: Scalar): YamlScalar {
  const explicitStr = node.tag === 'tag:yaml.org,2002:str';
  if (node.type === Scalar.PLAIN && !explicitStr) return resolvePlainScalar(node.source ?? String(node.value ?? ''));
  if (node.value === null || node.value === undefined) return { kind: 'null' };
  return { kind: 'string', value: String(node.value) };
}

function decode(node: unknown, pc: ParseContext): Value {
  let current = node;
  // Anchors may chain; a cycle is impossible in a parsed document but bound the walk anyway.
  for (let i = 0; i < 100 && isAlias(current); i++) {
    const target: unknown = pc.targets.get(current);
    if (target === undefined) throw loadError(`error converting YAML to JSON: yaml: unknown anchor '${current.source}' referenced`);
    current = target;
  }
  if (isMap(current)) return { kind: 'map', node: current };
  if (isSeq(current)) return { kind: 'seq', items: current.items };
  if (isScalar(current)) return { kind: 'scalar', scalar: scalarOf(current) };
  return { kind: 'scalar', scalar: { kind: 'null' } };
}

function kindOf(value: Value): string {
  return value.kind === 'map' ? 'object' : value.kind === 'seq' ? 'array' : scalarJsonKind(value.scalar);
}

function isNull(value: Value): boolean {
  return value.kind === 'scalar' && value.scalar.kind === 'null';
}

function keyText(key: unknown, pc: ParseContext): string {
  const value = decode(key, pc);
  if (value.kind !== 'scalar') return '';
  return scalarToGoString(value.scalar);
}

/**
 * A mapping's entries by key, as go-yaml v2 builds them: in document order, a later key overriding
 * an earlier one, and a `<<` merge setting the merged map's keys where it stands (so it overrides
 * the keys before it, and the keys after it override it). Of a merged sequence the earlier maps win.
 * A merge of anything but a map or a sequence of maps fails the whole document, as it does there.
 */
function entriesOf(map: YAMLMap, pc: ParseContext): Map<string, unknown> {
  const cached = pc.entries.get(map);
  if (cached !== undefined) return cached;
  const entries = new Map<string, unknown>();
  for (const pair of map.items) {
    const isMerge = isScalar(pair.key) && pair.key.source === '<<' && pair.key.type === Scalar.PLAIN;
    if (!isMerge) {
      entries.set(keyText(pair.key, pc), pair.value);
      continue;
    }
    const source = decode(pair.value, pc);
    const maps = source.kind === 'seq' ? source.items.map((n) => decode(n, pc)).reverse() : [source];
    for (const m of maps) {
      if (m.kind !== 'map') throw loadError('error converting YAML to JSON: yaml: map merge requires map or sequence of maps as the value');
      for (const [k, v] of entriesOf(m.node, pc)) entries.set(k, v);
    }
  }
  pc.entries.set(map, entries);
  return entries;
}

/** Go encoding/json field matching: exact name, else the last key equal under case folding. */
function field(entries: Map<string, unknown>, name: string): unknown {
  if (entries.has(name)) return entries.get(name);
  let found: unknown = undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of entries) if (k.toLowerCase() === lower) found = v;
  return found;
}

interface StructContext {
  pc: ParseContext;
  structName: string;
}

function stringField(entries: Map<string, unknown>, name: string, ctx: StructContext): string {
  const node = field(entries, name);
  if (node === undefined) return '';
  const value = decode(node, ctx.pc);
  if (value.kind !== 'scalar') throw typeError(kindOf(value), `Go struct field ${ctx.structName}.${name} of type string`);
  return scalarToGoString(value.scalar);
}

function structEntries(node: unknown, ctx: StructContext, target: string): Map<string, unknown> | undefined {
  const value = decode(node, ctx.pc);
  if (isNull(value)) return undefined;
  if (value.kind !== 'map') throw typeError(kindOf(value), target);
  return entriesOf(value.node, ctx.pc);
}

function decodeJmesEntry(node: unknown, pc: ParseContext): RawJmesEntry {
  const ctx = { pc, structName: 'JMESPathObject' };
  const entries = structEntries(node, ctx, 'Go struct field SecretDescriptor.jmesPath of type provider.JMESPathObject') ?? new Map();
  return {
    path: stringField(entries, 'path', ctx),
    objectAlias: stringField(entries, 'objectAlias', ctx),
    filePermission: stringField(entries, 'filePermission', ctx),
  };
}

function decodeJmesList(node: unknown, pc: ParseContext): RawJmesEntry[] {
  if (node === undefined) return [];
  const value = decode(node, pc);
  if (isNull(value)) return [];
  if (value.kind !== 'seq') {
    throw typeError(kindOf(value), 'Go struct field SecretDescriptor.jmesPath of type []provider.JMESPathObject');
  }
  return value.items.map((item) => decodeJmesEntry(item, pc));
}

function decodeFailover(node: unknown, pc: ParseContext): RawFailoverObject {
  const ctx = { pc, structName: 'FailoverObjectEntry' };
  const entries =
    node === undefined ? undefined : structEntries(node, ctx, 'Go struct field SecretDescriptor.failoverObject of type provider.FailoverObjectEntry');
  const e = entries ?? new Map<string, unknown>();
  return {
    objectName: stringField(e, 'objectName', ctx),
    objectVersion: stringField(e, 'objectVersion', ctx),
    objectVersionLabel: stringField(e, 'objectVersionLabel', ctx),
  };
}

function decodeObject(node: unknown, pc: ParseContext): RawObjectEntry | null {
  const value = decode(node, pc);
  if (isNull(value)) return null;
  if (value.kind !== 'map') throw typeError(kindOf(value), 'Go value of type provider.SecretDescriptor');
  const entries = entriesOf(value.node, pc);
  const ctx = { pc, structName: 'SecretDescriptor' };
  return {
    objectName: stringField(entries, 'objectName', ctx),
    objectAlias: stringField(entries, 'objectAlias', ctx),
    objectVersion: stringField(entries, 'objectVersion', ctx),
    objectVersionLabel: stringField(entries, 'objectVersionLabel', ctx),
    objectType: stringField(entries, 'objectType', ctx),
    filePermission: stringField(entries, 'filePermission', ctx),
    jmesPath: decodeJmesList(field(entries, 'jmesPath'), pc),
    failoverObject: decodeFailover(field(entries, 'failoverObject'), pc),
  };
}

/** First line of a yaml-package error and the line it starts on, as go-yaml words its errors. */
function yamlErrorText(error: { message: string; pos: [number, number] }, lines: LineCounter): string {
  const first = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  const { line } = lines.linePos(error.pos[0]);
  return line === 0 ? `yaml: ${first}` : `yaml: line ${line}: ${first}`;
}

/**
 * The first YAML document of `source`, as `parseDocument` composes it, from one read of the text:
 * the tokens are checked for nesting (the composer recurses, and a stack overflow there can abort
 * the process) before they are composed.
 */
function firstDocument(source: string): { doc: Document.Parsed; lines: LineCounter } {
  const lines = new LineCounter();
  const tokens = [...new Parser(lines.addNewLine).parse(source)];
  if (tokensNestingDepth(tokens) > MAX_YAML_DEPTH) throw loadError(`error converting YAML to JSON: yaml: exceeded max depth of ${MAX_YAML_DEPTH}`);
  // go-yaml v2 Unmarshal reads the first document and stops at the next `---`, so a trailing `---`
  // or a second document mounts with ASCP: later documents are not composed (nor their errors read).
  for (const doc of new Composer({ version: '1.1', uniqueKeys: false }).compose(tokens, true, source.length)) return { doc, lines };
  throw new Error('the yaml composer made no document'); // compose(…, forceDoc) always makes one
}

/** Parses `objects`; a null element is returned as `null` for the validator to report in order. */
export function parseObjectsYaml(text: string): Array<RawObjectEntry | null> {
  // go-yaml's reader skips a UTF-8 byte-order mark at the start of its input (an editor on Windows
  // may save one); the yaml package would read it as content.
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const { doc, lines } = firstDocument(source);
  const firstError = doc.errors[0];
  if (firstError !== undefined) throw loadError(`error converting YAML to JSON: ${yamlErrorText(firstError, lines)}`);
  const targets = aliasTargets(doc);
  refuseExcessiveAliasing(doc.contents, targets);
  const pc: ParseContext = { targets, entries: new WeakMap() };
  const top = decode(doc.contents as YamlNode | null, pc);
  if (isNull(top)) return [];
  if (top.kind !== 'seq') throw typeError(kindOf(top), `Go value of type ${LIST_TYPE}`);
  return top.items.map((item) => decodeObject(item, pc));
}

/** Each alias's node: the last node before it in the document that carries its anchor. */
function aliasTargets(doc: Document): Map<Alias, unknown> {
  const anchors = new Map<string, unknown>();
  const targets = new Map<Alias, unknown>();
  visit(doc, {
    Alias(_key, node) {
      targets.set(node, anchors.get(node.source));
    },
    Node(_key, node) {
      if (node.anchor !== undefined) anchors.set(node.anchor, node);
    },
  });
  return targets;
}

/**
 * go-yaml v2's guard against alias bombs (decode.go, allowedAliasRatio): decoding the document
 * into a tree, once more than 100 of its more than 1,000 node decodes come through aliases and
 * their share passes 99 % (down to 10 % past 4,000,000 decodes), it fails with "document contains
 * excessive aliasing". A few kilobytes of nested aliases otherwise expand to millions of nodes.
 * Counted here without expanding anything: each subtree's expanded size is computed once. The share
 * is highest at the end of an alias's expansion, so checking there finds every failure go-yaml finds.
 */
function refuseExcessiveAliasing(root: unknown, targets: Map<Alias, unknown>): void {
  const expandedSize = new Map<unknown, number>();
  const sizeOf = (node: unknown): number => {
    const known = expandedSize.get(node);
    if (known !== undefined) return known;
    expandedSize.set(node, 1); // an anchor cycle counts once instead of recursing forever
    let size = 1;
    if (isAlias(node)) size += sizeOf(targets.get(node));
    else for (const child of childrenOf(node)) size += sizeOf(child);
    expandedSize.set(node, size);
    return size;
  };
  let decodes = 0;
  let aliased = 0;
  const walk = (node: unknown): void => {
    decodes += 1;
    if (isAlias(node)) {
      const expansion = sizeOf(targets.get(node));
      decodes += expansion;
      aliased += expansion;
      if (aliased > 100 && decodes > 1000 && aliased / decodes > allowedAliasRatio(decodes)) {
        throw loadError('error converting YAML to JSON: yaml: document contains excessive aliasing');
      }
      return;
    }
    for (const child of childrenOf(node)) walk(child);
  };
  if (root !== null && root !== undefined) walk(root);
}

function allowedAliasRatio(decodes: number): number {
  if (decodes <= 400_000) return 0.99;
  if (decodes >= 4_000_000) return 0.1;
  return 0.99 - 0.89 * ((decodes - 400_000) / 3_600_000);
}

/** The nodes go-yaml decodes under a node: a mapping's keys and values, a sequence's items. */
function childrenOf(node: unknown): unknown[] {
  if (isMap(node)) return node.items.flatMap((pair) => (isPair(pair) ? [pair.key, pair.value] : [])).filter((n) => n !== null && n !== undefined);
  if (isSeq(node)) return node.items;
  return [];
}
