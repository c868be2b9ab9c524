/**
 * `npm run bench:micro`: tinybench micro-benchmarks of the per-mount hot paths, with ops/s and the
 * machine: parse + validate of a 50-object SecretProviderClass (the worker's `prepare` job), batch
 * planning for 1,000 concurrent mounts (the coalescing fetcher over in-memory fakes, no I/O), an atomic
 * write of a 10-file payload (kubelet writer: thread-pool calls on a temp dir, and its default choice
 * on the tmpfs /dev/shm, where production targets live and it writes inline), and JMESPath extraction.
 * Usage: npm run bench:micro [-- --time <ms per task>]
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { AwsSecretSource } from '../../src/adapters/aws/coalescing-fetcher.js';
import { CountingObserver } from '../../src/adapters/aws/observer.js';
import { RateBudget } from '../../src/adapters/aws/rate-budget.js';
import { SecretsManagerFetcher } from '../../src/adapters/aws/secrets-manager-fetcher.js';
import { SsmFetcher } from '../../src/adapters/aws/ssm-fetcher.js';
import { FakeCredentials, FakeSecretsManager, FakeSsm, InstantClock, identityFor } from '../../src/adapters/aws/testing/fakes.js';
import { KubeletAtomicWriter, fsOpsKindFor } from '../../src/adapters/fs/index.js';
import type { ObjectRequest, RenderedFile } from '../../src/core/model.js';
import { extractJmes } from '../../src/core/render/jmes.js';
import { handleJob } from '../../src/workers/handle-job.js';

const timeArg = process.argv.indexOf('--time');
const time = timeArg > 0 ? Number(process.argv[timeArg + 1]) : 1000;

// 1. parse + validate a 50-object SecretProviderClass (45 Secrets Manager with JMESPath on every 5th, 5 SSM).
const objects = Array.from({ length: 50 }, (_, i) =>
  i < 45
    ? `- objectName: "app/secret-${i}"\n  objectType: "secretsmanager"${i % 5 === 0 ? `\n  jmesPath:\n    - path: "username"\n      objectAlias: "user-${i}"` : ''}`
    : `- objectName: "/app/param-${i}"\n  objectType: "ssmparameter"`,
).join('\n');
const token = identityFor({ namespace: 'app', serviceAccount: 'web' }).token;
const attributes = JSON.stringify({
  region: 'us-east-1',
  objects,
  'csi.storage.k8s.io/pod.name': 'web-0',
  'csi.storage.k8s.io/pod.namespace': 'app',
  'csi.storage.k8s.io/pod.uid': 'uid-1',
  'csi.storage.k8s.io/serviceAccount.name': 'web',
  'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({ 'sts.amazonaws.com': { token, expirationTimestamp: '2030-01-01T00:00:00Z' } }),
});
const prepareJob = { type: 'prepare' as const, input: { attributes, targetPath: '/var/lib/kubelet/pods/uid-1/volumes/x/mount', permission: '420' } };
if (handleJob(prepareJob).type !== 'prepared') throw new Error('the 50-object SPC does not validate');

// 2. batch planning: 1,000 mounts of 100 identities × (8 secrets + 2 parameters) through the coalescing fetcher.
const clock = new InstantClock();
const observer = new CountingObserver();
const retry = { clock, random: () => 0, observer, maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
const budget = new RateBudget({ clock, fleetSize: 1, budgets: { BatchGetSecretValue: { ratePerSec: 1e9, burst: 1e9 }, GetParameters: { ratePerSec: 1e9, burst: 1e9 } } });
const sm = new FakeSecretsManager();
const ssm = new FakeSsm();
for (let s = 0; s < 100; s++) {
  for (let k = 0; k < 8; k++) sm.put(`sa-${s}/sm-${k}`, `value-${s}-${k}`);
  for (let k = 0; k < 2; k++) ssm.put(`/sa-${s}/p-${k}`, `value-${s}-${k}`);
}
const source = new AwsSecretSource({
  credentials: new FakeCredentials({ checkTokens: false }),
  clients: { secretsManager: () => sm, ssm: () => ssm },
  secretsManager: new SecretsManagerFetcher({ retry, budget, clock }),
  ssm: new SsmFetcher({ retry, budget }),
  clock,
  observer,
  coalesceWindowMs: 0,
});
const mounts = Array.from({ length: 1000 }, (_, i) => {
  const s = i % 100;
  const requests: ObjectRequest[] = [
    ...Array.from({ length: 8 }, (_, k): ObjectRequest => ({ type: 'secretsmanager', secretId: `sa-${s}/sm-${k}` })),
    ...Array.from({ length: 2 }, (_, k): ObjectRequest => ({ type: 'ssmparameter', name: `/sa-${s}/p-${k}` })),
  ];
  return { identity: identityFor({ namespace: 'bench', serviceAccount: `sa-${s}`, podUid: `uid-${i}` }), requests };
});

// 3. atomic write of a 10-file payload (alternating two payloads so every write changes something):
// on the temp dir with the thread-pool calls (the row measured before inline calls existed), and on
// /dev/shm with the writer's default choice, which is inline on a tmpfs.
const dir = await mkdtemp(join(tmpdir(), 'secretlet-micro-'));
await mkdir(join(dir, 'target'));
const writer = new KubeletAtomicWriter({ fsOps: 'async' });
const payload = (gen: number): RenderedFile[] => Array.from({ length: 10 }, (_, i) => ({ path: `file-${i}`, mode: 0o644, contents: Buffer.from(`secret-${i}-${gen}-${'x'.repeat(256)}`) }));
const payloads = [payload(0), payload(1)];
let gen = 0;
const SHM = '/dev/shm';
const shmDir = (await fsOpsKindFor(SHM)) === 'inline' ? await mkdtemp(join(SHM, 'secretlet-micro-')) : undefined;
if (shmDir === undefined) process.stdout.write(`skipping the tmpfs atomic write row: ${SHM} is missing or not a tmpfs/ramfs here\n`);
else await mkdir(join(shmDir, 'target'));
const shmWriter = new KubeletAtomicWriter();
let shmGen = 0;

// 4. JMESPath extraction of three entries from a 2 KiB JSON secret.
const json = new TextEncoder().encode(JSON.stringify({ username: 'app', password: 'p'.repeat(64), nested: { host: 'db.internal', port: '5432' }, pad: 'x'.repeat(2000) }));
const entries = [
  { path: 'username', objectAlias: 'u', filePermission: '' },
  { path: 'password', objectAlias: 'p', filePermission: '' },
  { path: 'nested.host', objectAlias: 'h', filePermission: '' },
];

const bench = new Bench({ time });
bench
  .add('parse + validate a 50-object SecretProviderClass', () => {
    handleJob(prepareJob);
  })
  .add('batch planning for 1,000 mounts (100 identities × 10 objects)', async () => {
    await Promise.all(mounts.map((m) => source.fetch(m.identity, 'us-east-1', m.requests)));
  })
  .add('atomic write of a 10-file payload', async () => {
    await writer.write(join(dir, 'target'), payloads[gen++ % 2]!);
  });
if (shmDir !== undefined) {
  bench.add(`atomic write of a 10-file payload (tmpfs ${SHM}, writer default: inline calls)`, async () => {
    await shmWriter.write(join(shmDir, 'target'), payloads[shmGen++ % 2]!);
  });
}
bench.add('JMESPath extraction (3 entries, 2 KiB JSON)', () => {
  extractJmes({ objectIndex: 0, objectName: 'db', value: json, entries });
});

try {
  await bench.run();
} finally {
  await rm(dir, { recursive: true, force: true });
  if (shmDir !== undefined) await rm(shmDir, { recursive: true, force: true });
}
process.stdout.write(`machine: ${hostname()} (${cpus().length}× ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version})\n`);
console.table(
  bench.tasks.map((t) => {
    const r = t.result as { throughput?: { mean?: number }; latency?: { mean?: number; p99?: number }; hz?: number; mean?: number } | undefined;
    const hz = r?.throughput?.mean ?? r?.hz ?? 0;
    const error = (t.result as { error?: Error } | undefined)?.error;
    return { task: t.name, 'ops/s': Math.round(hz), 'mean ms': Number((r?.latency?.mean ?? r?.mean ?? 0).toFixed(3)), ...(error ? { error: error.message } : {}) };
  }),
);
process.stdout.write(`batch planning: ${observer.snapshot().batchCalls} BatchGetSecretValue + ${observer.snapshot().getParametersCalls} GetParameters planned over all iterations (one of each per identity per round)\n`);
