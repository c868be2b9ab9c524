/**
 * Plays kubelet (CSI door) or the Secrets Store CSI Driver (provider door) against the agent for every
 * pod of the world: one publish/Mount per pod, all at once (cold burst) or spread over a window
 * (compressed republish), timing each call. Republish sends what driver >= 1.6 sends: no versions.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createCsiClient, createProviderClient } from '../../src/adapters/grpc/index.js';
import type { CsiClient, ProviderClient } from '../../src/adapters/grpc/index.js';
import { NAMESPACE, REGION, objectsYaml } from './world.js';
import type { PodSpec } from './world.js';

export type Door = 'csi' | 'provider';

export interface PassResult {
  latenciesMs: number[];
  allMountedMs: number;
  failures: number;
  firstError: string | undefined;
}

export interface KubeletPlayerOptions {
  door: Door;
  /** CSI endpoint (`unix://…`) or provider socket path. */
  endpoint: string;
  /** Where target directories are made. */
  dir: string;
  pods: PodSpec[];
  /** `serviceAccount.tokens` per pod, same order as `pods`. */
  tokens: string[];
  /** Mounted once by `warmUp()`, outside the measured phases. */
  warmup: { pod: PodSpec; tokens: string };
}

function identityIndex(p: PodSpec): number {
  return Number(p.serviceAccount.slice('sa-'.length));
}

export class KubeletPlayer {
  readonly #o: KubeletPlayerOptions;
  readonly #csi: CsiClient | undefined;
  readonly #provider: ProviderClient | undefined;

  constructor(options: KubeletPlayerOptions) {
    this.#o = options;
    this.#csi = options.door === 'csi' ? createCsiClient(options.endpoint) : undefined;
    this.#provider = options.door === 'provider' ? createProviderClient(options.endpoint) : undefined;
  }

  targetPath(p: PodSpec): string {
    return this.#o.door === 'csi'
      ? join(this.#o.dir, 'kubelet', 'pods', p.uid, 'volumes', 'kubernetes.io~csi', 'secrets-store', 'mount')
      : join(this.#o.dir, 'driver', 'pods', p.uid, 'volumes', 'kubernetes.io~csi', 'secrets-store', 'mount');
  }

  /**
   * What kubelet (or the driver) has done before it calls: the provider door's targets exist (the
   * driver made and mounted them); for the CSI door kubelet has made the volume dir that holds
   * `vol_data.json` (csi_mounter SetUpAt), and the driver makes only `mount` below it.
   */
  async prepare(): Promise<void> {
    if (this.#o.door === 'provider') await Promise.all(this.#o.pods.map((p) => mkdir(this.targetPath(p), { recursive: true })));
    else await Promise.all(this.#o.pods.map((p) => mkdir(dirname(this.targetPath(p)), { recursive: true })));
  }

  /** One mount of the warm-up pod, so the first measured mount does not pay for module loading. */
  async warmUp(): Promise<void> {
    const { pod } = this.#o.warmup;
    if (this.#o.door === 'provider') await mkdir(this.targetPath(pod), { recursive: true });
    await this.#publish(pod, -1);
  }

  #podKeys(p: PodSpec, i: number): Record<string, string> {
    return {
      'csi.storage.k8s.io/pod.name': p.name,
      'csi.storage.k8s.io/pod.namespace': NAMESPACE,
      'csi.storage.k8s.io/pod.uid': p.uid,
      'csi.storage.k8s.io/serviceAccount.name': p.serviceAccount,
      'csi.storage.k8s.io/serviceAccount.tokens': i < 0 ? this.#o.warmup.tokens : (this.#o.tokens[i] ?? ''),
      'csi.storage.k8s.io/ephemeral': 'true',
    };
  }

  async #publish(p: PodSpec, i: number): Promise<void> {
    if (this.#csi) {
      await this.#csi.nodePublish({ volumeId: `csi-${p.uid}`, targetPath: this.targetPath(p), volumeContext: { secretProviderClass: p.spc, ...this.#podKeys(p, i) } });
      return;
    }
    // The driver merges the SPC's parameters with the pod keys into `attributes`.
    const attributes = { region: REGION, objects: objectsYaml(identityIndex(p)), ...this.#podKeys(p, i) };
    await this.#provider?.mount({ attributes: JSON.stringify(attributes), secrets: '{}', targetPath: this.targetPath(p), permission: '420', currentObjectVersion: [] });
  }

  /** One publish per pod; pod i starts at i × spreadMs / P (all at once when spreadMs is 0). */
  async pass(spreadMs: number): Promise<PassResult> {
    const { pods } = this.#o;
    const latenciesMs: number[] = [];
    let failures = 0;
    let firstError: string | undefined;
    const t0 = performance.now();
    let last = t0;
    await Promise.all(
      pods.map(async (p, i) => {
        const startAt = (i * spreadMs) / pods.length;
        if (startAt > 0) await new Promise((r) => setTimeout(r, startAt));
        const start = performance.now();
        try {
          await this.#publish(p, i);
        } catch (e) {
          failures++;
          firstError ??= e instanceof Error ? e.message : String(e);
        }
        const end = performance.now();
        latenciesMs.push(end - start);
        last = Math.max(last, end);
      }),
    );
    return { latenciesMs, allMountedMs: last - t0, failures, firstError };
  }

  /** Unpublishes every pod (CSI door: unmounts the tmpfs). */
  async teardown(): Promise<void> {
    if (this.#csi) {
      const csi = this.#csi;
      await Promise.allSettled([...this.#o.pods, this.#o.warmup.pod].map((p) => csi.nodeUnpublish({ volumeId: `csi-${p.uid}`, targetPath: this.targetPath(p) })));
    }
    this.#csi?.close();
    this.#provider?.close();
  }
}
