/**
 * Picks the FsOps for one target directory: inline (synchronous) calls when the directory lives in
 * memory (tmpfs, ramfs), the thread pool otherwise. fs-ops.ts says why the two differ in cost.
 *
 * The choice is made by one statfs(2) per write rather than cached per path: a statfs is cheap
 * next to the ~80 calls of a 10-file payload, and a cache could go stale when a target is
 * unmounted and its path reused (an inline fsync on a disk would then block the loop).
 *
 * Inline writes also take turns with the event loop. A payload written inline never leaves the
 * microtask queue, so a burst of them (a rotation rewriting hundreds of volumes: their statfs
 * results arrive together in one libuv callback batch) would otherwise run back to back and hold
 * the loop for the whole burst — measured 250–400 ms for 500 payloads, with no timer firing in
 * between. Taking turns bounds each stall to one payload (well under a millisecond on tmpfs).
 */
import { statfsSync } from 'node:fs';
import type { FsOps, FsOpsKind } from './fs-ops.js';
import { asyncFsOps, inlineFsOps, memoryFsOps } from './fs-ops.js';

/** `f_type` values from linux/magic.h. */
export const TMPFS_MAGIC = 0x01021994;
export const RAMFS_MAGIC = 0x858458f6;

/**
 * How a writer picks its FsOps: 'auto' (the default) by the target's filesystem; 'inline' or
 * 'async' force one, so tests can exercise both on any directory; an FsOps object is used as it is
 * (tests wrap one to make a chosen call fail).
 */
export type FsOpsChoice = 'auto' | FsOpsKind | FsOps;

/**
 * 'inline' when `path` is on tmpfs or ramfs, else 'async'. A statfs failure (a missing target, no
 * permission) gives 'async': the writer then reports the real error from the call that needs it.
 */
export function fsOpsKindFor(path: string): Promise<FsOpsKind> {
  // Synchronous: one metadata call (no I/O on tmpfs or a local disk) that cost ~0.1 ms of main-thread
  // time per write through the thread pool. A dead mount answers ENOTCONN at once, as for the
  // mount-point check.
  let type: number;
  try {
    type = statfsSync(path).type;
  } catch {
    return Promise.resolve('async');
  }
  return Promise.resolve(type === TMPFS_MAGIC || type === RAMFS_MAGIC ? 'inline' : 'async');
}

/** The FsOps a write into `target` should use under `choice`. */
export async function fsOpsForTarget(target: string, choice: FsOpsChoice = 'auto'): Promise<FsOps> {
  if (typeof choice === 'object') return choice;
  if (choice !== 'auto') return choice === 'inline' ? inlineFsOps : asyncFsOps;
  // Only a target statfs found in memory gets the ops without fsync (fs-ops.ts memoryFsOps).
  return (await fsOpsKindFor(target)) === 'inline' ? memoryFsOps : asyncFsOps;
}

/** Misuse from untyped callers fails at construction, not at the first write. */
export function checkFsOpsChoice(choice: unknown, field: string): FsOpsChoice {
  if (choice === 'auto' || choice === 'inline' || choice === 'async') return choice;
  if (typeof choice === 'object' && choice !== null && (choice as Partial<FsOps>).kind !== undefined) return choice as FsOps;
  throw new TypeError(`${field} must be 'auto', 'inline' or 'async'`);
}

/**
 * One per writer: runs each write with the FsOps its target gets, letting inline writes start at
 * most one per event-loop turn (async writes yield at every call anyway and are not held back).
 */
export class TargetFsOps {
  private readonly choice: FsOpsChoice;
  /** Settles when the inline write in progress, or queued last, has handed over its turn. */
  private inlineTail: Promise<void> = Promise.resolve();

  constructor(choice: FsOpsChoice = 'auto') {
    this.choice = choice;
  }

  async run<T>(target: string, task: (ops: FsOps) => Promise<T>): Promise<T> {
    const ops = await fsOpsForTarget(target, this.choice);
    if (ops.kind !== 'inline') return task(ops);
    const previous = this.inlineTail;
    let handOver!: () => void;
    this.inlineTail = new Promise((resolve) => (handOver = resolve));
    await previous;
    try {
      return await task(ops);
    } finally {
      // setImmediate, not a resolved promise: the next inline write starts only after timers and
      // I/O callbacks had their go.
      setImmediate(handOver);
    }
  }
}
