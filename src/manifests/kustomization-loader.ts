/**
 * Builds a kustomization directory the way `kubectl kustomize` does, for the small subset our
 * deploy/ tree uses: `resources` (files and directories, recursively) and `patches` that are either
 * RFC 6902 operations with a `target`, or a `$patch: delete` of one object. Anything else (labels,
 * namespace transformers, strategic-merge patches, generators) is refused with an error naming the
 * file, so the generator can never silently drift from the overlays: a test compares both outputs.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { invalidArgument } from '../core/errors.js';
import { applyJsonPatch, parseJsonPatch } from './json-patch.js';
import type { KubeObject } from './kube-object.js';
import { describeObject, groupVersionOf, isKubeObject } from './kube-object.js';
import { sortLegacyOrder } from './kustomize-order.js';

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const SUPPORTED_KEYS = ['apiVersion', 'kind', 'resources', 'patches'];

interface PatchTarget {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

interface PatchEntry {
  path?: string;
  patch?: string;
  target?: PatchTarget;
}

/** Every YAML document of `text`, dropping empty ones (leading `---`, comment-only); `source` names it in errors. */
function parseYamlDocuments(text: string, source: string): unknown[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  return docs.flatMap((doc) => {
    if (doc.errors.length > 0) throw invalidArgument('InvalidYaml', `${source}: ${doc.errors[0]?.message ?? 'invalid YAML'}`, source);
    const value: unknown = doc.toJS();
    return value === null || value === undefined ? [] : [value];
  });
}

/** Every YAML document of a file, dropping empty ones. */
export function readYamlDocuments(file: string): unknown[] {
  return parseYamlDocuments(readFileSync(file, 'utf8'), file);
}

function findKustomizationFile(dir: string): string {
  const file = KUSTOMIZATION_FILES.map((name) => join(dir, name)).find((candidate) => existsSync(candidate));
  if (!file) throw invalidArgument('KustomizationNotFound', `no kustomization.yaml in ${dir}`, dir);
  return file;
}

function loadResources(entry: string, from: string): KubeObject[] {
  const path = resolve(from, entry);
  if (!existsSync(path)) throw invalidArgument('ResourceNotFound', `resource ${entry} (from ${from}) does not exist`, entry);
  if (statSync(path).isDirectory()) return buildKustomization(path, { sort: false });
  return readYamlDocuments(path).map((doc, i) => {
    if (!isKubeObject(doc)) throw invalidArgument('InvalidResource', `${path} document ${i} is not a Kubernetes object (apiVersion, kind, metadata.name)`, path);
    return doc;
  });
}

function matchesTarget(obj: KubeObject, target: PatchTarget): boolean {
  const { group, version } = groupVersionOf(obj);
  return (
    (target.group === undefined || target.group === group) &&
    (target.version === undefined || target.version === version) &&
    (target.kind === undefined || target.kind === obj.kind) &&
    (target.name === undefined || target.name === obj.metadata.name) &&
    (target.namespace === undefined || target.namespace === (obj.metadata.namespace ?? ''))
  );
}

function patchContent(entry: PatchEntry, dir: string, field: string): { docs: unknown[]; source: string } {
  if (typeof entry.path === 'string') return { docs: readYamlDocuments(join(dir, entry.path)), source: join(dir, entry.path) };
  if (typeof entry.patch === 'string') {
    return { docs: parseYamlDocuments(entry.patch, field), source: field };
  }
  throw invalidArgument('InvalidPatch', `${field} needs a path or an inline patch`, field);
}

function applyPatch(objects: KubeObject[], entry: PatchEntry, dir: string, field: string): KubeObject[] {
  const { docs, source } = patchContent(entry, dir, field);
  const [content] = docs;
  if (docs.length !== 1) throw invalidArgument('InvalidPatch', `${source} must hold exactly one patch document`, field);
  if (Array.isArray(content)) {
    const target = entry.target;
    if (!target) throw invalidArgument('InvalidPatch', `${field}: a JSON 6902 patch needs a target`, `${field}.target`);
    const operations = parseJsonPatch(content, source);
    let matched = 0;
    const patched = objects.map((obj) => {
      if (!matchesTarget(obj, target)) return obj;
      matched += 1;
      return applyJsonPatch(obj, operations);
    });
    if (matched === 0) throw invalidArgument('PatchTargetNotFound', `${source}: no object matches the patch target`, `${field}.target`);
    return patched;
  }
  if (isKubeObject(content) && (content as Record<string, unknown>)['$patch'] === 'delete') {
    const remaining = objects.filter(
      (obj) =>
        !(obj.apiVersion === content.apiVersion && obj.kind === content.kind && obj.metadata.name === content.metadata.name && (content.metadata.namespace === undefined || content.metadata.namespace === obj.metadata.namespace)),
    );
    if (remaining.length === objects.length) throw invalidArgument('PatchTargetNotFound', `${source}: ${describeObject(content)} to delete is not in the resources`, field);
    return remaining;
  }
  throw invalidArgument('UnsupportedPatch', `${source}: only JSON 6902 patches and "$patch: delete" are supported by secretlet manifests`, field);
}

export interface BuildOptions {
  /** Sort the result as `kubectl kustomize` does (only the outermost build sorts). @default true */
  sort?: boolean;
}

/** The objects `kubectl kustomize <dir>` prints, for the supported subset of kustomize. */
export function buildKustomization(dir: string, options: BuildOptions = {}): KubeObject[] {
  const file = findKustomizationFile(dir);
  const [kustomization, ...rest] = readYamlDocuments(file);
  if (typeof kustomization !== 'object' || kustomization === null || Array.isArray(kustomization) || rest.length > 0) {
    throw invalidArgument('InvalidKustomization', `${file} must hold one mapping`, file);
  }
  const k = kustomization as Record<string, unknown>;
  for (const key of Object.keys(k)) {
    if (!SUPPORTED_KEYS.includes(key)) throw invalidArgument('UnsupportedKustomization', `${file}: field "${key}" is not supported by secretlet manifests`, key);
  }
  const resources = (k['resources'] ?? []) as unknown[];
  const patches = (k['patches'] ?? []) as unknown[];
  if (!Array.isArray(resources) || !resources.every((r) => typeof r === 'string')) throw invalidArgument('InvalidKustomization', `${file}: resources must be a list of paths`, 'resources');
  if (!Array.isArray(patches)) throw invalidArgument('InvalidKustomization', `${file}: patches must be a list`, 'patches');
  let objects = resources.flatMap((entry) => loadResources(entry as string, dir));
  patches.forEach((entry, i) => {
    objects = applyPatch(objects, entry as PatchEntry, dir, `${file}: patches[${i}]`);
  });
  return options.sort === false ? objects : sortLegacyOrder(objects);
}
