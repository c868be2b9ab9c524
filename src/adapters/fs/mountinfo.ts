/**
 * Mount point detection from /proc/self/mountinfo (proc(5)), the same source kubelet's mount
 * utilities use. Comparing device numbers of a dir and its parent (the "likely not a mount point"
 * shortcut) misses bind mounts of the same filesystem; mountinfo does not.
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
  const points = parseMountPoints(await readFile(mountinfoPath, 'utf8'));
  return points.includes(canonical);
}
