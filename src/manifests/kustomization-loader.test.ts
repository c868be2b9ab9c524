import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildKustomization } from './kustomization-loader.js';

let root: string;

function write(path: string, text: string): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'secretlet-kustomize-'));
  write('base/objects.yaml', [
    '---',
    'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: ns}\nspec: {template: {spec: {containers: [{name: a}, {name: b}]}}}',
    'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: agent, namespace: ns}',
    '# only a comment',
  ].join('\n---\n'));
  write('base/driver.yaml', 'apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata: {name: d}\nspec: {attachRequired: false}\n');
  write('base/kustomization.yaml', 'resources: [objects.yaml, driver.yaml]\n');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('buildKustomization', () => {
  it('loads resources recursively and sorts like kubectl kustomize', () => {
    write('overlay/kustomization.yaml', 'resources: [../base]\n');
    expect(buildKustomization(join(root, 'overlay')).map((o) => o.kind)).toEqual(['ServiceAccount', 'DaemonSet', 'CSIDriver']);
  });

  it('applies targeted JSON patches and $patch: delete', () => {
    write('overlay/ops.yaml', '- {op: test, path: /spec/template/spec/containers/1/name, value: b}\n- {op: remove, path: /spec/template/spec/containers/1}\n');
    write('overlay/delete.yaml', 'apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata: {name: d}\n$patch: delete\n');
    write('overlay/kustomization.yaml', 'resources: [../base]\npatches:\n- path: delete.yaml\n- path: ops.yaml\n  target: {kind: DaemonSet, name: agent}\n');
    const objects = buildKustomization(join(root, 'overlay'));
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'DaemonSet']);
    expect((objects[1] as unknown as { spec: { template: { spec: { containers: unknown[] } } } }).spec.template.spec.containers).toEqual([{ name: 'a' }]);
  });

  it('fails like kustomize when a guarded patch no longer matches the base', () => {
    write('overlay/ops.yaml', '- {op: test, path: /spec/template/spec/containers/1/name, value: registrar}\n- {op: remove, path: /spec/template/spec/containers/1}\n');
    write('overlay/kustomization.yaml', 'resources: [../base]\npatches:\n- path: ops.yaml\n  target: {kind: DaemonSet, name: agent}\n');
    expect(() => buildKustomization(join(root, 'overlay'))).toThrow(expect.objectContaining({ reason: 'PatchTestFailed' }));
  });

  it.each([
    ['namespace: other\n', /"namespace" is not supported/],
    ['patches:\n- path: smp.yaml\n', /only JSON 6902 patches/],
    ['patches:\n- path: ops.yaml\n  target: {kind: Deployment}\n', /no object matches/],
    ['patches:\n- path: ops.yaml\n', /needs a target/],
  ])('refuses what it cannot replay exactly: %j', (extra, message) => {
    write('overlay/smp.yaml', 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec: {minReadySeconds: 5}\n');
    write('overlay/ops.yaml', '- {op: remove, path: /spec}\n');
    write('overlay/kustomization.yaml', `resources: [../base]\n${extra}`);
    expect(() => buildKustomization(join(root, 'overlay'))).toThrow(message);
  });

  it('names a missing resource', () => {
    write('overlay/kustomization.yaml', 'resources: [../nowhere]\n');
    expect(() => buildKustomization(join(root, 'overlay'))).toThrow(/resource \.\.\/nowhere/);
  });
});

describe('buildKustomization inline patches', () => {
  it('applies an inline JSON patch like a patch file', () => {
    write('overlay/kustomization.yaml', 'resources: [../base]\npatches:\n- target: {kind: ServiceAccount}\n  patch: |\n    - {op: add, path: /automountServiceAccountToken, value: false}\n');
    const sa = buildKustomization(join(root, 'overlay')).find((o) => o.kind === 'ServiceAccount');
    expect(sa?.['automountServiceAccountToken']).toBe(false);
  });
});
