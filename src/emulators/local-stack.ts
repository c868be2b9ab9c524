/**
 * Both local emulators wired the way a real EKS account is: the AWS endpoint trusts the local
 * API server's service-account issuer (as IAM trusts a cluster's OIDC provider), and a kubeconfig is
 * written so the agent, kubectl and users' tools connect as to a real cluster. Used by
 * `secretlet dev`, the integration tests and the benchmarks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsEmulator } from './aws/index.js';
import type { AwsEmulator, AwsEmulatorOptions } from './aws/index.js';
import { startKubeEmulator } from './kube/index.js';
import type { KubeEmulator, KubeObject } from './kube/index.js';

export interface LocalStack {
  aws: AwsEmulator;
  kube: KubeEmulator;
  /** Directory holding the kubeconfig; removed by stop() when the stack created it. */
  dir: string;
  kubeconfigPath: string;
  /**
   * Creates a service account; with `roleArn` it carries the IRSA annotation and the role trusts it.
   * Several service accounts may name one role: each joins its trust list and adds its `allow` to the
   * role's permissions (see AwsEmulator.mergeRole), as one IAM role trusted by many service accounts.
   */
  addServiceAccount(o: { namespace: string; name: string; roleArn?: string; allow?: { secrets?: string[]; parameters?: string[]; batchGetSecretValue?: boolean } }): void;
  /** The `csi.storage.k8s.io/serviceAccount.tokens` value kubelet would hand over for this pod. */
  kubeletTokens(o: { namespace: string; serviceAccount: string; podName: string; podUid: string }): string;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  aws?: AwsEmulatorOptions;
  dir?: string;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'secretlet-stack-')));
  let kube: KubeEmulator | undefined;
  let aws: AwsEmulator | undefined;
  try {
    kube = await startKubeEmulator();
    aws = await startAwsEmulator(options.aws ?? {});
    await aws.trustIssuer({ issuer: kube.issuer, jwks: kube.jwks() });
    await kube.writeKubeconfig(join(dir, 'kubeconfig'));
  } catch (err) {
    // A half-started stack would keep a server listening (and the process alive) and leave its
    // directory behind; nobody else holds a handle to clean them up.
    await Promise.allSettled([aws?.stop(), kube?.stop()]);
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return assembleStack({ aws, kube, dir, ownDir });
}

/** The handle over a fully started stack. */
function assembleStack(parts: { aws: AwsEmulator; kube: KubeEmulator; dir: string; ownDir: boolean }): LocalStack {
  const { aws, kube, dir, ownDir } = parts;
  const kubeconfigPath = join(dir, 'kubeconfig');
  return {
    aws,
    kube,
    dir,
    kubeconfigPath,
    addServiceAccount(o) {
      const sa: KubeObject = {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: {
          name: o.name,
          namespace: o.namespace,
          ...(o.roleArn ? { annotations: { 'eks.amazonaws.com/role-arn': o.roleArn } } : {}),
        },
      };
      kube.apply(sa);
      if (o.roleArn) {
        aws.mergeRole({ roleArn: o.roleArn, trust: [{ namespace: o.namespace, serviceAccount: o.name }], allow: o.allow ?? {} });
        aws.addPodIdentityAssociation({ namespace: o.namespace, serviceAccount: o.name, roleArn: o.roleArn });
      }
    },
    kubeletTokens(o) {
      const out: Record<string, { token: string; expirationTimestamp: string }> = {};
      for (const audience of ['sts.amazonaws.com', 'pods.eks.amazonaws.com']) {
        out[audience] = kube.mintServiceAccountToken({ namespace: o.namespace, serviceAccount: o.serviceAccount, audiences: [audience], podName: o.podName, podUid: o.podUid });
      }
      return JSON.stringify(out);
    },
    async stop() {
      await Promise.allSettled([aws.stop(), kube.stop()]);
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
