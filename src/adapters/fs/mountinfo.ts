/**
 * Mount point detection from /proc/self/mountinfo (proc(5)), the same source kubelet's mount
 * utilities use. Comparing device numbers of a dir and its parent (the "likely not a mount point"
 * shortcut) misses bind mounts of the same filesystem; mountinfo does not.
 *
 * The check runs on every publish and every cleanup, while mountinfo grows by a line per mounted
 * volume (800+ lines on a dense node), so it does not parse the file: it escapes the path the way
 * the kernel does and searches the text for it, looking at field positions only on lines that
 * contain it. The kernel's escaping is canonical, so comparing escaped forms is exact.
 *
 * The file is read as bytes, never decoded: a 100+ KiB string per check would land in V8's
 * large-object space (in the 737-pod CSI-door benchmark, most of the run's 3.1 s of GC). Reading
 * it is still costly for the kernel (it formats every mount, ~1-7 ms with hundreds of them), so
 * TmpfsMounter answers "mounted" from device numbers first and comes here only when they agree.
 */
import { readFile, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isNotFound } from './durable-io.js';

/**
 * Field 5 of each line is the mount point, with space, tab, newline and backslash written as
 * octal escapes (`\040`, `\011`, `\012`, `\134`).
 */
export function parseMountPoints(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field !== undefined) points.push(unescapeOctal(field));
  }
  return points;
}

/** Matches the characters the kernel escapes in mountinfo paths (seq_path with " \t\n\\"). */
const ESCAPED_BY_KERNEL = /[ \t\n\\]/g;
const SPACE = 0x20;
const NEWLINE = 0x0a;

/** The inverse of unescapeOctal for the four characters the kernel escapes: `a b` → `a\040b`. */
export function escapeOctal(path: string): string {
  return path.replace(ESCAPED_BY_KERNEL, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/**
 * Whether `mountPoint` (a canonical path) is field 5 of some line of `mountinfo`: the same answer
 * as `parseMountPoints(mountinfo).includes(mountPoint)` without splitting or decoding every line.
 * An escaped path has no spaces or newlines, so ` <escaped> ` can only match a whole field; it is
 * field 5 when exactly four spaces precede it on its line (fields are single-space separated).
 */
export function listsMountPoint(mountinfo: string | Buffer, mountPoint: string): boolean {
  const text = typeof mountinfo === 'string' ? Buffer.from(mountinfo, 'utf8') : mountinfo;
  const needle = Buffer.from(` ${escapeOctal(mountPoint)} `, 'utf8');
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    let spaces = 0;
    for (let i = at; i >= 0 && text[i] !== NEWLINE && spaces <= 4; i--) {
      if (text[i] === SPACE) spaces++;
    }
    if (spaces === 4) return true;
  }
  return false;
}

export function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * Whether `target` is listed as a mount point. The path is canonicalised first (mountinfo holds
 * real paths); a missing path is not a mount point. A path whose realpath fails otherwise (e.g. a
 * dead mount answering ENOTCONN) is compared as given, so it can still be found and unmounted.
 */
export async function isListedMountPoint(target: string, mountinfoPath = '/proc/self/mountinfo'): Promise<boolean> {
  let canonical: string;
  try {
    canonical = await realpath(target);
  } catch (err) {
    if (isNotFound(err)) return false;
    canonical = resolve(target);
  }
  return listsMountPoint(await readFile(mountinfoPath), canonical);
}
