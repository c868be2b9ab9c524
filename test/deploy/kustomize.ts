/**
 * Test helpers: run the real `kubectl kustomize` on a deploy/ overlay and look objects up in the
 * result. kubectl is expected on the machine; when it is absent the kustomize-based suites skip
 * with a message saying so instead of failing on an environment problem.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/manifests/index.js';

const run = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY_DIR = `${REPO_ROOT}deploy`;

export async function kubectlAvailable(): Promise<boolean> {
  try {
    await run('kubectl', ['version', '--client'], { timeout: 30_000 });
    return true;
  } catch {
    console.warn('kubectl is not installed: skipping the tests that render deploy/ overlays with `kubectl kustomize`');
    return false;
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
