/**
 * Readers racing writers: the atomic writer must never show a pod a missing, empty or mixed-version
 * payload, and the reader must be able to see one when the writer is not atomic.
 */
import { readlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  KubeletAtomicWriter,
  ProviderFileWriter,
  TmpfsMounter,
  fsOpsKindFor,
  readMountedFiles,
} from '../../../src/adapters/fs/index.js';
import type { FsOpsChoice } from '../../../src/adapters/fs/index.js';
import type { RenderedFile } from '../../../src/core/model.js';
import type { PayloadWriter, WriteOutcome } from '../../../src/core/ports/payload-writer.js';
import type { ConsistencyReader } from '../../support/consistency-reader.js';
import { startConsistencyReader } from '../../support/consistency-reader.js';
import { mountCapability } from '../../support/privileges.js';
import { tempDirs, textFile } from '../../support/temp-target.js';

const FILES = Array.from({ length: 10 }, (_, i) => (i < 3 ? `nested/file-${i}` : `file-${i}`));
const payload = (version: number): RenderedFile[] =>
  // Sizes vary with the version so a torn read could not pass as a whole file by accident.
  FILES.map((path) => textFile(path, `v${version}\n${path}\n${'x'.repeat(100 + (version % 7) * 1000)}`));
const versionOf = (text: string): string | undefined => /^v(\d+)\n/.exec(text)?.[1];

const dirs = tempDirs();
const mounter = new TmpfsMounter();
const mounted: string[] = [];
let reader: ConsistencyReader | undefined;
afterEach(async () => {
  await reader?.stop();
  reader = undefined;
  for (const target of mounted.splice(0)) await mounter.unmount(target);
  await dirs.removeAll();
});

/**
 * Volumes live on a tmpfs in production, so the races run on one when we may mount it (fsync on a
 * disk filesystem would make 200 rewrites slow without changing what is tested); else on disk.
 */
async function targetDir(): Promise<string> {
  const dir = await dirs.make();
  if (mountCapability().capable) {
    await mounter.mount(dir, { sizeBytes: 64 * 1024 * 1024 });
    mounted.push(dir);
    // The writers' default ('auto') then makes inline calls, as in production.
    expect(await fsOpsKindFor(dir)).toBe('inline');
  }
  return dir;
}

/**
 * The writers run with their production default ('auto': inline on the tmpfs) and with the thread
 * pool forced, so both sets of filesystem calls are raced against readers.
 */
const FS_OPS: FsOpsChoice[] = ['auto', 'async'];

/** Writes `count` versions; after each, waits until the reader finished one more pass, so they overlap. */
async function rewrite(writer: PayloadWriter, target: string, count: number): Promise<void> {
  for (let version = 1; version <= count; version++) {
    const passes = reader!.passes();
    expect(await writer.write(target, payload(version))).toEqual({ changed: true, stamp: expect.any(String) });
    await reader!.waitForPasses(passes + 1);
  }
}

describe('consistency under concurrent reads', () => {
  it.each(FS_OPS)('KubeletAtomicWriter (%s fs calls): 200 rewrites of a 10-file payload, zero violations', async (fsOps) => {
    const target = await targetDir();
    const writer = new KubeletAtomicWriter({ fsOps });
    await writer.write(target, payload(0));
    reader = startConsistencyReader({ dir: target, files: FILES, versionOf });
    await reader.waitForPasses(1);

    await rewrite(writer, target, 200);

    const report = await reader.stop();
    reader = undefined;
    expect(report.violations).toEqual([]);
    expect(report.violationCount).toBe(0);
    expect(report.reads + report.tornPasses).toBeGreaterThanOrEqual(201);
    expect(report.reads).toBeGreaterThan(0);
  });

  it('a deliberately non-atomic writer is caught (the reader can fail)', async () => {
    const target = await targetDir();
    const inPlace = new InPlaceWriter();
    await inPlace.write(target, payload(0));
    reader = startConsistencyReader({ dir: target, files: FILES, versionOf, maxViolations: 1000 });
    await reader.waitForPasses(1);
    // After each file the writer rewrites, let the reader complete a whole pass that started after
    // it (+2: the pass in flight may have begun before): that pass must see v1 next to v0.
    inPlace.afterEachFile = async () => reader!.waitForPasses(reader!.passes() + 2);

    await inPlace.write(target, payload(1));

    const report = await reader.stop();
    reader = undefined;
    expect(report.violationCount).toBeGreaterThan(0);
    expect(report.violations.some((v) => /mixed versions: .*=1.*=0/.test(v))).toBe(true);
  });

  it.each(FS_OPS)('ProviderFileWriter (%s fs calls): 100 rewrites never show a missing, empty or torn file', async (fsOps) => {
    const target = await targetDir();
    const flat = FILES.map((f) => f.replace('/', '_'));
    const writer = new ProviderFileWriter({ fsOps });
    const flatPayload = (v: number) => payload(v).map((f) => ({ ...f, path: f.path.replace('/', '_') }));
    await writer.write(target, flatPayload(0));
    // Per-file atomicity only: renames land one by one, so versions may differ across files.
    reader = startConsistencyReader({ dir: target, files: flat, versionOf, requireSameVersion: false });
    await reader.waitForPasses(1);

    for (let version = 1; version <= 100; version++) {
      const passes = reader.passes();
      await writer.write(target, flatPayload(version));
      await reader.waitForPasses(passes + 1);
    }

    const report = await reader.stop();
    reader = undefined;
    expect(report.violations).toEqual([]);
  });
});

describe('readMountedFiles during rotation', () => {
  it.each(FS_OPS)('always returns one version of the payload while ..data is being swapped (%s fs calls)', async (fsOps) => {
    const target = await targetDir();
    const writer = new KubeletAtomicWriter({ fsOps });
    await writer.write(target, payload(0));
    const dataLink = (): string => readlinkSync(join(target, '..data'));
    const VERSIONS = 50;
    const seen: number[] = [];
    /** Reads whose window (from just before the call to just after it resolved) saw `..data` change. */
    let overlapped = 0;
    let link = dataLink();
    for (let version = 1; version <= VERSIONS; version++) {
      // One swap at a time, with reads back to back from before the write starts until after it
      // finished: the windows are contiguous, so the swap lands in exactly one of them, whatever the
      // scheduling. (With inline fs calls the whole write runs while the first read is in flight.)
      let written = false;
      const write = writer.write(target, payload(version)).then((outcome) => {
        written = true;
        return outcome;
      });
      do {
        // One swap per read at most, so a read never runs out of attempts: any error fails the test.
        const files = await readMountedFiles(target);
        const now = dataLink();
        if (now !== link) overlapped += 1;
        link = now;
        expect([...files.keys()].sort()).toEqual([...FILES].sort());
        const versions = [...new Set([...files.values()].map((b) => versionOf(Buffer.from(b).toString())))];
        expect(versions).toHaveLength(1);
        // The payload before this swap or after it, never anything else.
        expect([version - 1, version]).toContain(Number(versions[0]));
        seen.push(Number(versions[0]));
      } while (!written);
      expect(await write).toEqual({ changed: true, stamp: expect.any(String) });
    }
    expect(overlapped).toBe(VERSIONS);
    expect(seen.length).toBeGreaterThanOrEqual(VERSIONS);
    const final = await readMountedFiles(target);
    expect(new Set([...final.values()].map((b) => versionOf(Buffer.from(b).toString())))).toEqual(new Set(['50']));
    // Versions seen while racing only move forward.
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });
});

/** Truncates and rewrites files in place, like a naive `fs.writeFile` loop. Not a product class. */
class InPlaceWriter implements PayloadWriter {
  afterEachFile: () => Promise<void> = async () => undefined;

  async write(targetDir: string, files: readonly RenderedFile[]): Promise<WriteOutcome> {
    for (const file of files) {
      await mkdir(join(targetDir, file.path, '..'), { recursive: true });
      await writeFile(join(targetDir, file.path), file.contents);
      await this.afterEachFile();
    }
    return { changed: true };
  }
}
