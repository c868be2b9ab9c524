/**
 * `secretlet manifests`: the install objects for one mode, built from the overlays in deploy/ (the
 * single source of truth, also applied with `kubectl apply -k`) and customised by options. deploy/
 * is found from this module's own location, so it works from a source checkout (src/manifests),
 * the compiled package (dist/manifests) and the container image (/app).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { SecretletError } from '../core/errors.js';
import { customizeManifests } from './customize-manifests.js';
import type { KubeObject } from './kube-object.js';
import { buildKustomization } from './kustomization-loader.js';
import type { ManifestOptions } from './manifest-options.js';
import { compileManifestOptions } from './manifest-options.js';

/** The nearest directory above `fromUrl` holding the secretlet package.json and a deploy/ tree. */
export function findPackageRoot(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(join(dir, 'deploy'))) {
      const { name } = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string };
      if (name === 'secretlet') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new SecretletError({ code: 'FAILED_PRECONDITION', reason: 'DeployDirNotFound', message: 'cannot find the secretlet package root with its deploy/ directory' });
    }
    dir = parent;
  }
}

/** The objects to apply for `options.mode`, in `kubectl kustomize` order. */
export function renderManifests(options: ManifestOptions = {}): KubeObject[] {
  const compiled = compileManifestOptions(options, () => join(findPackageRoot(), 'deploy'));
  const objects = buildKustomization(join(compiled.deployDir, 'overlays', compiled.mode));
  return customizeManifests(objects, compiled);
}

/**
 * A multi-document YAML stream for `kubectl apply -f -`. Written as YAML 1.1 because kubectl's
 * parser is YAML 1.1: strings such as `yes`, `on` or `12:30` are quoted so they stay strings there.
 * Long strings are never folded.
 */
export function toYaml(objects: readonly KubeObject[]): string {
  return objects.map((obj) => stringify(obj, { lineWidth: 0, version: '1.1' })).join('---\n');
}
