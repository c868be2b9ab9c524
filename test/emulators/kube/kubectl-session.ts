/**
 * Real kubectl against an emulator, for the tests that check what a user sees: each run gets the
 * emulator's kubeconfig and a private discovery cache, and reports stdout, stderr and exit code
 * (a failing command is an answer to check, not an exception).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';

export interface KubectlRun {
  stdout: string;
  stderr: string;
  code: number;
}

export interface KubectlSession {
  run(...args: string[]): Promise<KubectlRun>;
  /** Writes a manifest into the session's directory and returns its path. */
  file(name: string, text: string): Promise<string>;
  close(): Promise<void>;
}

export function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('kubectl is not on the PATH: skipping kubectl tests of the Kubernetes emulator');
    return false;
  }
}

export async function kubectlSession(emulator: KubeEmulator): Promise<KubectlSession> {
  const dir = await mkdtemp(join(tmpdir(), 'kube-emulator-kubectl-'));
  await emulator.writeKubeconfig(join(dir, 'kubeconfig'));
  return {
    run: (...args) =>
      new Promise((resolve) => {
        execFile('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args], { timeout: 45_000 }, (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
          resolve({ stdout, stderr, code });
        });
      }),
    file: async (name, text) => {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * For a test file that needs one emulator and kubectl on it: starts both before the file's tests,
 * hands them to `use`, and stops both after the tests.
 */
export function emulatorWithKubectl(use: (emulator: KubeEmulator, kubectl: KubectlSession) => void): void {
  let emulator: KubeEmulator | undefined;
  let kubectl: KubectlSession | undefined;
  beforeAll(async () => {
    emulator = await startKubeEmulator();
    kubectl = await kubectlSession(emulator);
    use(emulator, kubectl);
  });
  afterAll(async () => {
    await kubectl?.close();
    await emulator?.stop();
  });
}
