/**
 * A target directory's stamp: device, inode, and the change and modification times (sub-µs) of the
 * directory itself. Every entry the writers add, rename or remove changes it, and so does anything
 * else that changes the directory's entries or a fresh mount over the path (a new device). The agent
 * records it after writing and compares it before it trusts that a target still shows what it wrote.
 * Files rewritten in place inside the directory do not change it; the volume is mounted read-only
 * for pods, so only the node's root could do that (upstream's mtime check has the same blind spot).
 */
import { statSync } from 'node:fs';

/**
 * Whether two stamps are of the same directory (device and inode), whatever changed inside it. A
 * mount over the path or its unmount shows another directory. False when either is unknown.
 */
export function sameTargetDirectory(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const directoryOf = (stamp: string) => stamp.slice(0, stamp.indexOf(':', stamp.indexOf(':') + 1));
  return directoryOf(a) === directoryOf(b);
}

/** Undefined when the path does not exist or cannot be stat-ed. */
export function targetStamp(path: string): string | undefined {
  try {
    // Numbers, not bigint: mtimeMs and ctimeMs keep sub-microsecond fractions at today's epoch, and
    // the bigint form cost ~45 µs per publish in allocations.
    const s = statSync(path, { throwIfNoEntry: false });
    return s === undefined ? undefined : `${s.dev}:${s.ino}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return undefined;
  }
}
