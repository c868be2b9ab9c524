/**
 * Whether this process may mount a tmpfs: it needs CAP_SYS_ADMIN (bit 21 of CapEff in
 * /proc/self/status) and a `mount` binary. Tests that need it use `it.skipIf(!MOUNT_CAPABLE)` with
 * MOUNT_SKIP_REASON in their name, so a skipped run says exactly why.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const CAP_SYS_ADMIN = 21n;

function hasSysAdmin(): boolean {
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('CapEff:'));
    if (line === undefined) return false;
    return ((BigInt(`0x${line.slice('CapEff:'.length).trim()}`) >> CAP_SYS_ADMIN) & 1n) === 1n;
  } catch {
    return false;
  }
}

function hasMountBinary(): boolean {
  return spawnSync('mount', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function mountCapability(): { capable: boolean; reason: string } {
  if (!hasSysAdmin()) return { capable: false, reason: 'needs CAP_SYS_ADMIN (run as root) to mount tmpfs' };
  if (!hasMountBinary()) return { capable: false, reason: 'needs the `mount` binary (util-linux)' };
  return { capable: true, reason: '' };
}
