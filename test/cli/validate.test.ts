/**
 * `secretlet validate`: the shared real-world fixtures pass (except the one the upstream driver
 * itself rejects), broken files fail with exactly the message a mount of them returns through the
 * provider door, and the binary exits non-zero.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createProviderClient } from '../../src/adapters/grpc/index.js';
import { runValidate } from '../../src/cli/validate.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { addPod, podAttributes, seedApp, targetFor } from '../ops/world.js';
import { SPC_FIXTURES_DIR } from '../support/paths.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SHARED = SPC_FIXTURES_DIR;
const BROKEN = join(ROOT, 'test/cli/fixtures');
const brokenFiles = readdirSync(BROKEN).filter((f) => f.endsWith('.yaml')).sort();

async function validate(files: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runValidate(files, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('secretlet validate on the shared fixtures', () => {
  const files = readdirSync(SHARED).filter((f) => f.endsWith('.yaml')).sort();

  it.each(files.filter((f) => f !== 'pod-identity.yaml'))('%s passes', async (file) => {
    const r = await validate([join(SHARED, file)]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out.at(-1)).toMatch(/: ok \(\d+ files?: /);
  });

  it('pod-identity.yaml fails with the error a kubelet-door mount gives: the SPC has no spec.provider', async () => {
    // The fixture is copied from a public guide that omits spec.provider; the upstream driver (and
    // our CSI door) refuse it with "provider not set in <ns>/<name>", so validate must too.
    const r = await validate([join(SHARED, 'pod-identity.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain('spec.provider: provider not set in default/example-pod-identity-spc');
  });

  it('names each SPC namespace/name, and notes the missing region only where an ARN object needs one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secretlet-validate-'));
    try {
      const file = join(dir, 'list.yaml');
      const spc = (ns: string, objects: string) =>
        ({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'db', namespace: ns }, spec: { provider: 'aws', parameters: { objects } } });
      const arn = '- objectName: "arn:aws:secretsmanager:us-west-2:111122223333:secret:db-AbCdEf"\n';
      writeFileSync(file, stringify({ apiVersion: 'v1', kind: 'List', items: [spc('team-a', '- objectName: db\n  objectType: secretsmanager\n'), spc('team-b', arn)] }));
      const r = await validate([file]);
      expect(r.code).toBe(0);
      expect(r.out).toEqual([
        `${file}: team-a/db: ok (1 file: db)`,
        `${file}: team-b/db: note: no region parameter and no --region given: ARN objects were checked against their own region`,
        `${file}: team-b/db: ok (1 file: arn:aws:secretsmanager:us-west-2:111122223333:secret:db-AbCdEf)`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a YAML error in one document and still checks the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secretlet-validate-'));
    try {
      const file = join(dir, 'two.yaml');
      const good = stringify({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'two' }, spec: { provider: 'aws', parameters: { region: 'us-east-1', objects: '- objectName: db\n  objectType: secretsmanager\n' } } });
      writeFileSync(file, `apiVersion: v1\nkind: x\n  bad: indent\n---\n${good}`);
      const r = await validate([file]);
      expect(r.code).toBe(1);
      expect(r.err).toEqual([`${file}: document 1: YAML error: Nested mappings are not allowed in compact mappings at line 2, column 7`]);
      expect(r.out).toEqual([`${file}: two: ok (1 file: db)`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file nested too deeply to read, and still checks the next file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secretlet-validate-'));
    try {
      const deep = join(dir, 'deep.yaml');
      writeFileSync(deep, '- '.repeat(5000) + 'x\n');
      const r = await validate([deep, join(SHARED, files[0]!)]);
      expect(r.code).toBe(1);
      expect(r.err).toEqual([`${deep}: YAML error: nested deeper than 100 levels`, '1 of 2 files failed validation']);
      expect(r.out.at(-1)).toMatch(/: ok \(\d+ files?: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks every file and reports each bad one', async () => {
    const r = await validate(files.map((f) => join(SHARED, f)));
    expect(r.code).toBe(1);
    expect(r.out.filter((l) => l.includes(': ok ('))).toHaveLength(files.length - 1);
    expect(r.err.at(-1)).toBe(`1 of ${files.length} files failed validation`);
  });
});

describe('secretlet validate on broken files', () => {
  let h: Harness;
  const doorErrors = new Map<string, string>();

  beforeAll(async () => {
    h = await startHarness();
    seedApp(h.stack);
    const client = createProviderClient(h.providerSocket);
    try {
      for (const file of brokenFiles) {
        const spc = parse(readFileSync(join(BROKEN, file), 'utf8')) as { metadata: { name: string }; spec: { parameters: Record<string, string> } };
        const pod = addPod(h.stack);
        const attributes = { ...spc.spec.parameters, ...podAttributes(h.stack, pod, spc.metadata.name) };
        const details = await client.mount({ attributes: JSON.stringify(attributes), secrets: 'null', targetPath: await targetFor(h.dir, pod), permission: '420', currentObjectVersion: [] }).then(
          () => 'mounted',
          (e: Error & { details?: string }) => e.details ?? e.message,
        );
        doorErrors.set(file, details);
      }
    } finally {
      client.close();
    }
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('has broken fixtures to check', () => {
    expect(brokenFiles.length).toBeGreaterThanOrEqual(4);
  });

  it.each(brokenFiles)('%s fails with the same message as a mount of it', async (file) => {
    const door = doorErrors.get(file)!;
    expect(door).not.toBe('mounted');
    const r = await validate([join(BROKEN, file)]);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]!.endsWith(`: ${door}`), `${r.err[0]} vs door: ${door}`).toBe(true);
  });

  it('the binary exits 1 and prints the errors on stderr', async () => {
    const run = promisify(execFile);
    const res = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'validate', ...brokenFiles.map((f) => join(BROKEN, f))], { cwd: ROOT }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(res.code).toBe(1);
    for (const file of brokenFiles) expect(res.stderr).toContain(`${join(BROKEN, file)}: `);
  }, 60_000);
});
