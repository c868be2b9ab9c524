/**
 * A target directory's stamp: device, inode, and the change and modification times (sub-µs) of the
 * directory itself. Every entry the writers add, rename or remove changes it, and so does anything
 * else that changes the directory's entries or a fresh mount over the path (a new device). The agent
 * records it after writing and compares it before it trusts that a target still shows what it wrote.
 * Files rewritten in place inside the directory do not change it; the volume is mounted read-only
 * for pods, so only the node's root could do that (upstream's mtime check has the same blind spot).
 */
import { statSync } from 'node:fs';

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
