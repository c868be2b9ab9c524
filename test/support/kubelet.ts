/**
 * A fake kubelet for integration tests of the CSI door: it speaks csi.v1 over the agent's real
 * socket and builds NodePublishVolume exactly as kubelet does for an inline `secrets-store` volume
 * (podInfoOnMount keys, `ephemeral`, service-account tokens from the emulated TokenRequest,
 * `readonly`, a mount capability), with target paths in kubelet's layout under a temp pods dir.
 * It also reads what a pod would see, and whether a target is a mount point per mountinfo.
 */
import { createHash } from 'node:crypto';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createCsiClient } from '../../src/adapters/grpc/index.js';
import type { CallOptions, CsiClient, KubeletPublishRequest } from '../../src/adapters/grpc/index.js';
import { parseMountPoints } from '../../src/adapters/fs/index.js';
import type { LocalStack } from '../../src/emulators/local-stack.js';

/** One pod with one secrets-store volume, as the pod spec names it. */
export interface KubeletPod {
  namespace: string;
  name: string;
  uid: string;
  serviceAccount: string;
  secretProviderClass: string;
  /** The pod's volume name. @default 'secrets' */
  volume?: string;
}

/** What to change in the request kubelet would send, for malformed-request tests. */
export interface PublishOverrides {
  volumeId?: string;
  targetPath?: string;
  /** Replaces the whole volume context. */
  volumeContext?: Record<string, string>;
  secrets?: Record<string, string>;
  readonly?: boolean;
  volumeCapability?: KubeletPublishRequest['volumeCapability'];
}

export interface FakeKubelet {
  readonly client: CsiClient;
  /** `<dir>/pods`, kubelet's `/var/lib/kubelet/pods`. */
  readonly podsDir: string;
  /** `<pods>/<uid>/volumes/kubernetes.io~csi/<volume>/mount` */
  targetPath(pod: KubeletPod): string;
  /** `csi-<sha256>` of pod uid and volume name, stable per volume as kubelet's. */
  volumeId(pod: KubeletPod): string;
  /** The NodePublishVolume request kubelet sends for this pod's volume. */
  publishRequest(pod: KubeletPod, overrides?: PublishOverrides): KubeletPublishRequest;
  publish(pod: KubeletPod, overrides?: PublishOverrides, options?: CallOptions): Promise<void>;
  unpublish(pod: KubeletPod, options?: CallOptions): Promise<void>;
  /** A file of the pod's volume, read through the target (following the `..data` links). */
  readFile(pod: KubeletPod, file: string): Promise<string>;
  /** Where `<target>/..data` points, or undefined without one. */
  dataLink(pod: KubeletPod): Promise<string | undefined>;
  close(): void;
}

export interface FakeKubeletOptions {
  stack: LocalStack;
  /** The agent's CSI endpoint (`unix://...`). */
  csiEndpoint: string;
  /** Parent of the `pods` directory. */
  dir: string;
}

export function startFakeKubelet(options: FakeKubeletOptions): FakeKubelet {
  const client = createCsiClient(options.csiEndpoint);
  const podsDir = join(options.dir, 'pods');
  const targetPath = (pod: KubeletPod): string =>
    join(podsDir, pod.uid, 'volumes', 'kubernetes.io~csi', pod.volume ?? 'secrets', 'mount');
  const volumeId = (pod: KubeletPod): string =>
    `csi-${createHash('sha256').update(`${pod.uid}/${pod.volume ?? 'secrets'}`).digest('hex')}`;

  const publishRequest = (pod: KubeletPod, o: PublishOverrides = {}): KubeletPublishRequest => ({
    volumeId: o.volumeId ?? volumeId(pod),
    targetPath: o.targetPath ?? targetPath(pod),
    volumeContext: o.volumeContext ?? {
      secretProviderClass: pod.secretProviderClass,
      'csi.storage.k8s.io/pod.name': pod.name,
      'csi.storage.k8s.io/pod.namespace': pod.namespace,
      'csi.storage.k8s.io/pod.uid': pod.uid,
      'csi.storage.k8s.io/serviceAccount.name': pod.serviceAccount,
      'csi.storage.k8s.io/ephemeral': 'true',
      'csi.storage.k8s.io/serviceAccount.tokens': options.stack.kubeletTokens({
        namespace: pod.namespace,
        serviceAccount: pod.serviceAccount,
        podName: pod.name,
        podUid: pod.uid,
      }),
    },
    secrets: o.secrets ?? {},
    readonly: o.readonly ?? true,
    volumeCapability: o.volumeCapability === undefined ? { mountFlags: [] } : o.volumeCapability,
  });

  return {
    client,
    podsDir,
    targetPath,
    volumeId,
    publishRequest,
    publish: (pod, overrides, callOptions) => client.nodePublish(publishRequest(pod, overrides), callOptions),
    unpublish: (pod, callOptions) => client.nodeUnpublish({ volumeId: volumeId(pod), targetPath: targetPath(pod) }, callOptions),
    readFile: (pod, file) => readFile(join(targetPath(pod), file), 'utf8'),
    async dataLink(pod) {
      try {
        return await readlink(join(targetPath(pod), '..data'));
      } catch {
        return undefined;
      }
    },
    close: () => client.close(),
  };
}

/** Mount points of this process (the agent runs in it), with their filesystem type. */
export async function mountedFilesystems(): Promise<Map<string, string>> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [point] = parseMountPoints(line);
    // After the optional fields comes ` - <fstype> <source> <super options>`.
    if (point !== undefined) out.set(point, /\s-\s(\S+)\s/.exec(line)?.[1] ?? '');
  }
  return out;
}

/** The filesystem type mounted at `path` (a real path), or undefined when it is not a mount point. */
export async function filesystemAt(path: string): Promise<string | undefined> {
  return (await mountedFilesystems()).get(path);
}
