/**
 * Test helpers: run the real `kubectl kustomize` on a deploy/ overlay and look objects up in the
 * result. kubectl is expected on the machine. Only a kubectl that is not installed (ENOENT) lets the
 * kustomize-based suites skip, saying so in their names, and not in CI (the CI variable set), where
 * the suites must run; any other failure of kubectl (a timeout, a crash) fails the test file.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/manifests/index.js';

const run = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY_DIR = `${REPO_ROOT}deploy`;

export interface KubectlCapability {
  available: boolean;
  /** To append to a suite's name: empty when available, else ` (skipped: <why>)`. */
  because: string;
}

/**
 * Whether kubectl can run here. Missing (ENOENT) gives `available: false`, unless `CI` is set:
 * then it throws, as does every other failure of `kubectl version --client`.
 */
export async function kubectlCapability(): Promise<KubectlCapability> {
  try {
    await run('kubectl', ['version', '--client'], { timeout: 30_000 });
    return { available: true, because: '' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`kubectl is installed but \`kubectl version --client\` failed: ${String(err)}`, { cause: err });
    }
    if ((process.env['CI'] ?? '') !== '') {
      throw new Error('kubectl is not installed, and CI is set: the tests that render deploy/ overlays with `kubectl kustomize` must run in CI', { cause: err });
    }
    return { available: false, because: ' (skipped: kubectl is not installed)' };
  }
}

export async function kustomize(overlay: 'kubelet' | 'provider'): Promise<KubeObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', `${DEPLOY_DIR}/overlays/${overlay}`], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout as string)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((obj): obj is KubeObject => obj !== null);
}

/** An object with the fields the tests inspect left open for `expect`. */
export type LooseObject = KubeObject & { spec?: unknown; rules?: unknown; roleRef?: unknown; subjects?: unknown };

export function byKind(objects: readonly KubeObject[], kind: string, name: string): LooseObject {
  const obj = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!obj) throw new Error(`${kind} ${name} is not in the rendered objects`);
  return obj;
}

export interface ProbeView {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
}

export interface ContainerView {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string; mountPropagation?: string }>;
  readinessProbe?: ProbeView;
  livenessProbe?: ProbeView;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  ports?: Array<{ containerPort: number; name?: string }>;
}

export interface VolumeView {
  name: string;
  hostPath?: { path: string; type?: string };
  emptyDir?: Record<string, unknown>;
}

export interface PodSpecView {
  containers: ContainerView[];
  volumes: VolumeView[];
  serviceAccountName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: unknown[] } } };
  priorityClassName?: string;
  terminationGracePeriodSeconds?: number;
}

export function podSpec(objects: readonly KubeObject[]): PodSpecView {
  const ds = byKind(objects, 'DaemonSet', 'secretlet') as unknown as { spec: { template: { spec: PodSpecView } } };
  return ds.spec.template.spec;
}

export function container(objects: readonly KubeObject[], name: string): ContainerView {
  const found = podSpec(objects).containers.find((c) => c.name === name);
  if (!found) throw new Error(`container ${name} is not in the DaemonSet`);
  return found;
}
