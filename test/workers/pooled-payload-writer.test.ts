/**
 * Payload writes through a real piscina pool: the same files and modes as the direct writers, the
 * same errors across the thread boundary, and one payload per target when writes race.
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeletAtomicWriter, ProviderFileWriter, isTimestampDirName, targetStamp } from '../../src/adapters/fs/index.js';
import { SecretletError } from '../../src/core/errors.js';
import type { RenderedFile } from '../../src/core/model.js';
import type { PayloadWriter } from '../../src/core/ports/payload-writer.js';
import { InlineMountWorker, PiscinaMountWorker, PooledPayloadWriter, createPayloadWriter, handleWriteJob } from '../../src/workers/index.js';
import type { WorkerResult, WriteJob, WriterKind } from '../../src/workers/index.js';
import { textFile } from '../support/temp-target.js';

// Disk (tmpdir) takes the writers' async calls; /dev/shm, where present, the inline tmpfs path.
const ROOTS: Array<[string, string]> = [['disk', tmpdir()], ...(existsSync('/dev/shm') ? [['tmpfs', '/dev/shm'] as [string, string]] : [])];
const made: string[] = [];
async function freshDir(root: string): Promise<string> {
  const dir = await mkdtemp(join(root, 'secretlet-pool-write-'));
  made.push(dir);
  return dir;
}

function pooled(pool: PiscinaMountWorker, writer: WriterKind): PooledPayloadWriter {
  return new PooledPayloadWriter({ writer, run: (job) => pool.runWrite(job) });
}

function direct(writer: WriterKind): PayloadWriter {
  return writer === 'kubelet' ? new KubeletAtomicWriter() : new ProviderFileWriter();
}

function payload(writer: WriterKind): RenderedFile[] {
  const binary: RenderedFile = { path: 'cert.der', mode: 0o400, contents: new Uint8Array([0, 255, 1, 2]) };
  const nested = writer === 'kubelet' ? [textFile('conf/app.json', '{"a":1}', 0o640)] : [];
  // Buffer.from of short text is a view into Node's shared pool: it must still arrive intact.
  return [textFile('db-user', 'app', 0o644), textFile('api-key', 'k-1', 0o600), binary, ...nested];
}

/** What a pod sees: each payload path's bytes and permission bits (following the kubelet links). */
async function visible(target: string, files: readonly RenderedFile[]): Promise<Array<[string, string, string]>> {
  return Promise.all(
    files.map(async (f): Promise<[string, string, string]> => [
      f.path,
      (await readFile(join(target, f.path))).toString('hex'),
      ((await stat(join(target, f.path))).mode & 0o777).toString(8),
    ]),
  );
}

/** Top-level names with the kubelet's timestamped dir names replaced by a placeholder. */
async function layout(target: string): Promise<string[]> {
  return (await readdir(target)).map((n) => (isTimestampDirName(n) ? '<ts>' : n)).sort();
}

let pool: PiscinaMountWorker;
let pool2: PiscinaMountWorker;
beforeAll(async () => {
  pool = new PiscinaMountWorker({ threads: 1, maxQueue: 64 });
  pool2 = new PiscinaMountWorker({ threads: 2, maxQueue: 64 });
  await Promise.all([pool.start(), pool2.start()]);
});
afterAll(async () => {
  await Promise.all([pool.close(), pool2.close()]);
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe.each(ROOTS)('writes through a 1-thread pool on %s', (_name, root) => {
  it.each<WriterKind>(['kubelet', 'provider'])('%s: lands the same files, modes and layout as the direct writer', async (writer) => {
    const files = payload(writer);
    const [a, b] = [await freshDir(root), await freshDir(root)];
    const [viaDirect, viaPool] = await Promise.all([direct(writer).write(a, files), pooled(pool, writer).write(b, files)]);
    expect(viaPool).toEqual({ changed: true, stamp: expect.any(String) });
    expect(viaDirect).toEqual({ changed: true, stamp: expect.any(String) });
    expect(await visible(b, files)).toEqual(await visible(a, files));
    expect(await layout(b)).toEqual(await layout(a));
    expect(await visible(b, files)).toContainEqual(['cert.der', '00ff0102', '400']);
  });

  it.each<WriterKind>(['kubelet', 'provider'])('%s: an unchanged rewrite reports changed=false and leaves the files alone', async (writer) => {
    const files = payload(writer);
    const target = await freshDir(root);
    const w = pooled(pool, writer);
    await w.write(target, files);
    const before = await Promise.all(files.map((f) => stat(join(target, f.path))));
    const link = writer === 'kubelet' ? await readlink(join(target, '..data')) : undefined;

    expect(await w.write(target, files)).toEqual({ changed: false, stamp: expect.any(String) });
    const after = await Promise.all(files.map((f) => stat(join(target, f.path))));
    expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));
    if (link !== undefined) expect(await readlink(join(target, '..data'))).toBe(link);

    // A changed payload is still a change (the no-op is not a stuck answer).
    expect(await w.write(target, [textFile('db-user', 'app2', 0o644)])).toEqual({ changed: true, stamp: expect.any(String) });
    expect(await readFile(join(target, 'db-user'), 'utf8')).toBe('app2');
  });

  it('runs many sequential writes and then still answers compute jobs (no thread parked with work pending)', async () => {
    const target = await freshDir(root);
    const w = pooled(pool, 'provider');
    for (let i = 0; i < 10; i++) await w.write(target, [textFile('n', String(i))]);
    expect(await readFile(join(target, 'n'), 'utf8')).toBe('9');
    await expect(pool.prepare({ attributes: '{}', targetPath: target, permission: '420' })).rejects.toBeInstanceOf(SecretletError);
  });
});

describe('errors keep code, reason and field across the thread boundary', () => {
  it('an invalid path is INVALID_ARGUMENT InvalidFilePath naming files[i].path, for both writers', async () => {
    const target = await freshDir(tmpdir());
    for (const writer of ['kubelet', 'provider'] as const) {
      const failure = await pooled(pool, writer)
        .write(target, [textFile('ok', 'x'), textFile('../escape', 'x')])
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(SecretletError);
      expect(failure).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'InvalidFilePath', field: 'files[1].path' });
      expect((failure as Error).message).not.toContain('x"');
    }
    expect(await readdir(target)).toEqual([]);
  });

  it('a directory in the way is INTERNAL PayloadWriteFailed naming the path, as with the direct writer', async () => {
    const target = await freshDir(tmpdir());
    await mkdir(join(target, 'db-user'));
    const files = [textFile('db-user', 'app')];
    const viaPool = await pooled(pool, 'provider').write(target, files).catch((e: unknown) => e);
    const viaDirect = await direct('provider').write(target, files).catch((e: unknown) => e);
    expect(viaPool).toBeInstanceOf(SecretletError);
    expect(viaPool).toMatchObject({ code: 'INTERNAL', reason: 'PayloadWriteFailed' });
    expect((viaPool as Error).message).toBe((viaDirect as Error).message);
    expect((viaPool as Error).message).toContain(join(target, 'db-user'));
    expect((await lstat(join(target, 'db-user'))).isDirectory()).toBe(true);
  });

  it('a closed pool fails writes as UNAVAILABLE WorkerClosed', async () => {
    const closed = new PiscinaMountWorker({ threads: 1, maxQueue: 4 });
    await closed.close();
    await expect(pooled(closed, 'provider').write(await freshDir(tmpdir()), [textFile('a', 'b')])).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      reason: 'WorkerClosed',
    });
  });
});

describe('one target, many racing writes through a 2-thread pool', () => {
  const versions = Array.from({ length: 20 }, (_, i) => i);
  const filesOf = (v: number): RenderedFile[] => ['a', 'b', 'c', 'd'].map((n) => textFile(n, `${n}-v${v}-${'x'.repeat(v * 100)}`));

  it.each<WriterKind>(['kubelet', 'provider'])('%s: ends with exactly one complete payload', async (writer) => {
    const target = await freshDir(tmpdir());
    const w = pooled(pool2, writer);
    const outcomes = await Promise.all(versions.map((v) => w.write(target, filesOf(v))));
    expect(outcomes.every((o) => o.changed)).toBe(true);

    const seen = await Promise.all(['a', 'b', 'c', 'd'].map(async (n) => (await readFile(join(target, n), 'utf8')).split('-')[1]));
    expect(new Set(seen).size).toBe(1);
    // The per-target lock keeps submission order, so the last write wins.
    expect(seen[0]).toBe('v19');
    const names = await readdir(target);
    if (writer === 'kubelet') expect(names.filter(isTimestampDirName)).toHaveLength(1);
    else expect(names.sort()).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('PooledPayloadWriter (fake pool)', () => {
  it('never has two jobs for one target in flight, but runs different targets side by side', async () => {
    const inFlight = new Map<string, number>();
    let maxPerTarget = 0;
    const releases: Array<() => void> = [];
    const w = new PooledPayloadWriter({
      writer: 'provider',
      run: async (job) => {
        const n = (inFlight.get(job.target) ?? 0) + 1;
        inFlight.set(job.target, n);
        maxPerTarget = Math.max(maxPerTarget, n);
        await new Promise<void>((resolve) => releases.push(resolve));
        inFlight.set(job.target, n - 1);
        return { type: 'written', changed: true };
      },
    });
    const writes = [w.write('/t/one', []), w.write('/t/one', []), w.write('/t/two', [])];
    // Both targets' first jobs start; the second job for /t/one waits for the first.
    await expect.poll(() => releases.length).toBe(2);
    expect([...inFlight.values()]).toEqual([1, 1]);
    releases.shift()?.();
    // Only once the first /t/one job has finished does the second one start.
    await expect.poll(() => releases.length).toBe(2);
    expect(inFlight.get('/t/one')).toBe(1);
    for (const r of releases.splice(0)) r();
    await Promise.all(writes);
    expect(maxPerTarget).toBe(1);
  });

  it('a wrong answer from the pool is an INTERNAL WorkerProtocol error', async () => {
    const w = new PooledPayloadWriter({ writer: 'kubelet', run: () => Promise.resolve({ type: 'pong' }) });
    await expect(w.write('/t', [])).rejects.toMatchObject({ code: 'INTERNAL', reason: 'WorkerProtocol' });
  });

  it('sends exact-size copies of pooled Buffer views and leaves the caller’s files untouched', async () => {
    const sent: Uint8Array[] = [];
    const w = new PooledPayloadWriter({
      writer: 'provider',
      run: (job) => {
        sent.push(...job.files.map((f) => f.contents));
        return Promise.resolve({ type: 'written', changed: true });
      },
    });
    const files = [textFile('a', 'short'), { path: 'b', mode: 0o644, contents: new Uint8Array([1, 2]) }];
    await w.write('/t', files);
    expect(sent.map((c) => [Buffer.from(c).toString('hex'), c.buffer.byteLength])).toEqual([
      [Buffer.from('short').toString('hex'), 5],
      ['0102', 2],
    ]);
    expect(sent[1]).toBe(files[1]?.contents);
    expect(Buffer.from(files[0]?.contents ?? []).toString()).toBe('short');
  });
});

describe('a write whose caller gives up while it waits for a thread (driver deadline)', () => {
  it('is dropped by the thread when it starts: nothing written, reported as abandoned', async () => {
    const queued: WriteJob[] = [];
    let answer!: (result: WorkerResult) => void;
    const w = new PooledPayloadWriter({
      writer: 'provider',
      run: (job) => {
        queued.push(job);
        return new Promise<WorkerResult>((resolve) => (answer = resolve));
      },
    });
    const caller = new AbortController();
    const writing = w.write('/t', [textFile('a', 'x')], { signal: caller.signal });
    await expect.poll(() => queued.length).toBe(1);
    // The driver's deadline passes while the job waits in the pool's queue; then the thread takes it.
    caller.abort();
    const wrote: string[] = [];
    const spy: PayloadWriter = { write: (target) => (wrote.push(target), Promise.resolve({ changed: true })) };
    answer(await handleWriteJob(queued[0]!, { kubelet: spy, provider: spy }));
    expect(await writing).toEqual({ changed: false, skipped: 'abandoned' });
    expect(wrote).toEqual([]);
  });

  it('is not queued at all when the caller gave up while it waited for the target', async () => {
    const queued: WriteJob[] = [];
    const w = new PooledPayloadWriter({ writer: 'kubelet', run: (job) => (queued.push(job), Promise.resolve({ type: 'written', changed: true })) });
    const caller = new AbortController();
    caller.abort();
    expect(await w.write('/t', [], { signal: caller.signal })).toEqual({ changed: false, skipped: 'abandoned' });
    expect(queued).toEqual([]);
  });

  it('a job whose caller is still there is written as usual', async () => {
    const target = await freshDir(tmpdir());
    const caller = new AbortController();
    expect(await pooled(pool, 'provider').write(target, [textFile('a', 'x')], { signal: caller.signal })).toEqual({ changed: true, stamp: expect.any(String) });
    expect(await readFile(join(target, 'a'), 'utf8')).toBe('x');
  });
});

describe.each<WriterKind>(['kubelet', 'provider'])('%s writer: the start-of-write conditions', (writer) => {
  it('writes nothing once the caller gave up', async () => {
    const target = await freshDir(tmpdir());
    const caller = new AbortController();
    caller.abort();
    for (const w of [direct(writer), pooled(pool, writer)]) {
      expect(await w.write(target, [textFile('a', 'x')], { signal: caller.signal })).toEqual({ changed: false, skipped: 'abandoned' });
    }
    expect(await readdir(target)).toEqual([]);
  });

  it('writes nothing when the path shows another directory than the caller saw (the tmpfs was unmounted)', async () => {
    const target = await freshDir(tmpdir());
    const seen = targetStamp(target)!;
    // The directory the caller saw goes away and another takes its path, as the node's disk does
    // when the driver unmounts the tmpfs over it.
    await rm(target, { recursive: true });
    await freshDir(tmpdir()); // takes the freed inode, should the file system hand it out again
    await mkdir(target);
    for (const w of [direct(writer), pooled(pool, writer)]) {
      expect(await w.write(target, [textFile('a', 'x')], { directory: seen })).toEqual({ changed: false, skipped: 'target-gone' });
    }
    expect(await readdir(target)).toEqual([]);
    // The directory as it is now is written.
    expect(await pooled(pool, writer).write(target, [textFile('a', 'x')], { directory: targetStamp(target)! })).toEqual({ changed: true, stamp: expect.any(String) });
  });
});

describe('handleWriteJob (the thread side)', () => {
  it('answers only after callbacks the writer left for setImmediate have run', async () => {
    let handedOver = false;
    const writer: PayloadWriter = {
      write: () => {
        setImmediate(() => (handedOver = true));
        return Promise.resolve({ changed: true });
      },
    };
    const result = await handleWriteJob({ type: 'write', writer: 'kubelet', target: '/t', files: [] }, { kubelet: writer, provider: writer });
    expect(result).toEqual({ type: 'written', changed: true });
    expect(handedOver).toBe(true);
  });

  it('turns a thrown error into its plain form, never a raw Error', async () => {
    const writer: PayloadWriter = { write: () => Promise.reject(new Error('boom')) };
    const result = await handleWriteJob({ type: 'write', writer: 'provider', target: '/t', files: [] }, { kubelet: writer, provider: writer });
    expect(result).toEqual({ type: 'error', error: { name: 'Error', code: 'INTERNAL', reason: 'Internal', message: 'boom' } });
  });
});

describe('createPayloadWriter', () => {
  it('pools writes when the mount worker has threads and writes directly inline', () => {
    expect(createPayloadWriter({ writer: 'kubelet', worker: pool })).toBeInstanceOf(PooledPayloadWriter);
    expect(createPayloadWriter({ writer: 'kubelet', worker: new InlineMountWorker() })).toBeInstanceOf(KubeletAtomicWriter);
    expect(createPayloadWriter({ writer: 'provider', worker: new InlineMountWorker() })).toBeInstanceOf(ProviderFileWriter);
  });
});
