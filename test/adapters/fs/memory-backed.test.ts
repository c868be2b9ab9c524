/**
 * How a writer picks its filesystem calls: inline on a memory-backed target (tmpfs, ramfs), the
 * thread pool on anything else, and inline writes taking turns with the event loop. The mounts
 * need CAP_SYS_ADMIN; without it those tests are skipped and their names say why.
 */
import { execFile } from 'node:child_process';
import { readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeletAtomicWriter, ProviderFileWriter, TmpfsMounter, fsOpsKindFor } from '../../../src/adapters/fs/index.js';
import { fsOpsForTarget } from '../../../src/adapters/fs/memory-backed.js';
import type { FsOpsChoice } from '../../../src/adapters/fs/index.js';
import { unescapeOctal } from '../../../src/adapters/fs/mountinfo.js';
import { mountCapability } from '../../support/privileges.js';
import { tempDirs, textFile } from '../../support/temp-target.js';

const run = promisify(execFile);
const { capable, reason } = mountCapability();
const because = capable ? '' : ` (skipped: ${reason})`;

const dirs = tempDirs();
const mounter = new TmpfsMounter();
const mounted: string[] = [];
afterEach(async () => {
  for (const target of mounted.splice(0)) await mounter.unmount(target);
  await dirs.removeAll();
});

/** The filesystem type of the mount holding `path`, read independently of statfs (proc(5) mountinfo). */
async function filesystemTypeOf(path: string): Promise<string> {
  const real = await realpath(path);
  let best = { point: '', type: '' };
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const fields = line.split(' ');
    const point = unescapeOctal(fields[4] ?? '');
    const type = fields[fields.indexOf('-') + 1] ?? '';
    const inside = real === point || real.startsWith(point === '/' ? '/' : `${point}/`);
    if (inside && point.length >= best.point.length) best = { point, type };
  }
  return best.type;
}

describe('fsOpsKindFor', () => {
  it.skipIf(!capable)(`picks inline calls for a real tmpfs${because}`, async () => {
    const target = await dirs.make();
    await mounter.mount(target, { sizeBytes: 1024 * 1024 });
    mounted.push(target);
    expect(await fsOpsKindFor(target)).toBe('inline');
  });

  it.skipIf(!capable)(`picks inline calls for a real ramfs${because}`, async () => {
    const target = await dirs.make();
    await run('mount', ['-t', 'ramfs', 'ramfs', target]);
    mounted.push(target);
    expect(await filesystemTypeOf(target)).toBe('ramfs');
    expect(await fsOpsKindFor(target)).toBe('inline');
  });

  it('picks the thread pool for a plain temp dir on disk', async (ctx) => {
    const dir = await dirs.make();
    const type = await filesystemTypeOf(dir);
    if (type === 'tmpfs' || type === 'ramfs') ctx.skip(`the temp dir is on ${type} here, not on disk`);
    expect(await fsOpsKindFor(dir)).toBe('async');
    expect((await fsOpsForTarget(dir)).durability).toBe('fsync');
  });

  it.skipIf(!capable)(`skips fsync only where statfs found memory, never when inline calls are forced${because}`, async () => {
    const target = await dirs.make();
    await mounter.mount(target, { sizeBytes: 1024 * 1024 });
    mounted.push(target);
    expect(await fsOpsForTarget(target)).toMatchObject({ kind: 'inline', durability: 'memory' });
    // Forced inline (tests, unusual setups) may point at a disk: it keeps its fsyncs.
    expect(await fsOpsForTarget(target, 'inline')).toMatchObject({ kind: 'inline', durability: 'fsync' });
    // And the memory ops still write whole files with their modes.
    await new KubeletAtomicWriter().write(target, [textFile('a', 'one', 0o640)]);
    expect(await readFile(join(target, 'a'), 'utf8')).toBe('one');
    expect((await stat(join(target, 'a'))).mode & 0o777).toBe(0o640);
  });

  it('picks the thread pool for a path it cannot inspect; the write then reports the real error', async () => {
    const missing = join(await dirs.make(), 'missing');
    expect(await fsOpsKindFor(missing)).toBe('async');
    await expect(new ProviderFileWriter().write(missing, [textFile('a', '1')])).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining(`${missing}: ENOENT`),
    });
  });
});

describe('writer fsOps option', () => {
  it('rejects an unknown choice when the writer is built', () => {
    const bogus = 'sync' as unknown as FsOpsChoice;
    expect(() => new KubeletAtomicWriter({ fsOps: bogus })).toThrow(TypeError);
    expect(() => new ProviderFileWriter({ fsOps: bogus })).toThrow(/options\.fsOps/);
  });
});

describe('inline writes take turns with the event loop', () => {
  // Without turns, a burst of inline writes never leaves the microtask queue: every one of them
  // would finish before any timer or I/O callback of the process got to run.
  it.each(['kubelet', 'provider'])('a burst of %s writes lets other callbacks run after each payload', async (kind) => {
    const writer = kind === 'kubelet' ? new KubeletAtomicWriter({ fsOps: 'inline' }) : new ProviderFileWriter({ fsOps: 'inline' });
    const targets = await Promise.all(Array.from({ length: 5 }, () => dirs.make()));
    let completed = 0;
    const writes = targets.map(async (target, i) => {
      await writer.write(target, [textFile('a', `payload-${i}`), textFile('b', 'b')]);
      completed++;
    });

    const completedAtNextTurn = await new Promise<number>((resolve) => setImmediate(() => resolve(completed)));
    await Promise.all(writes);

    expect(completedAtNextTurn).toBe(1);
    expect(completed).toBe(5);
    for (const [i, target] of targets.entries()) expect(await readFile(join(target, 'a'), 'utf8')).toBe(`payload-${i}`);
  });

  it('a failed inline write hands its turn on', async () => {
    const writer = new ProviderFileWriter({ fsOps: 'inline' });
    const good = await dirs.make();
    const results = await Promise.allSettled([
      writer.write(join(good, 'missing'), [textFile('a', '1')]),
      writer.write(good, [textFile('a', '2')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(await readFile(join(good, 'a'), 'utf8')).toBe('2');
  });
});
