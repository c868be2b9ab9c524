/**
 * Mints a pod's service-account token through the TokenRequest API (`serviceaccounts/token`
 * create), the same call kubelet makes for the CSI driver's `tokenRequests`. Used only when
 * `--mint-tokens` is on: after an agent restart, live mounts replayed from the event log have no
 * token in memory, and minting one lets rotation resume without waiting for kubelet's republish.
 * Opt-in because least-privilege installs do not grant `serviceaccounts/token` create
 * (deploy/components/serviceaccount-token adds it).
 *
 * The token is returned to the caller and nowhere else: it is never logged and never part of an
 * error message (kubeError keeps only the API server's status message, which names the object).
 */
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { SecretletError } from '../../core/errors.js';
import type { AudienceToken } from '../../core/model.js';
import { kubeError } from './kube-errors.js';

export interface TokenMintRequest {
  namespace: string;
  serviceAccount: string;
  /** The audience of the mount's auth mode ('sts.amazonaws.com' for IRSA, 'pods.eks.amazonaws.com' for Pod Identity). */
  audience: string;
  /** The token is bound to this pod: it dies with the pod, as kubelet's tokens do. */
  pod: { name: string; uid: string };
}

/** The role: something that can mint a pod-bound token (the rotation side depends on this, tests fake it). */
export interface ServiceAccountTokenMinter {
  mint(request: TokenMintRequest): Promise<AudienceToken>;
}

export interface KubeTokenMinterOptions {
  /** @default 3600 (what kubelet asks for; the API server may shorten it) */
  expirationSeconds?: number;
}

export class KubeTokenMinter implements ServiceAccountTokenMinter {
  private readonly api: CoreV1Api;
  private readonly expirationSeconds: number;
  private minted = 0;

  constructor(kc: KubeConfig, options: KubeTokenMinterOptions = {}) {
    this.api = kc.makeApiClient(CoreV1Api);
    this.expirationSeconds = options.expirationSeconds ?? 3600;
  }

  async mint(request: TokenMintRequest): Promise<AudienceToken> {
    const { namespace, serviceAccount, audience, pod } = request;
    const what = `failed to request a token for service account ${namespace}/${serviceAccount} (pod ${pod.name}, audience ${audience})`;
    let status: { token?: string; expirationTimestamp?: Date | string } | undefined;
    try {
      const answer = await this.api.createNamespacedServiceAccountToken({
        name: serviceAccount,
        namespace,
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences: [audience],
            expirationSeconds: this.expirationSeconds,
            boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.name, uid: pod.uid },
          },
        },
      });
      status = answer.status;
    } catch (e) {
      throw kubeError(what, e);
    }
    const token = status?.token ?? '';
    if (token === '') {
      throw new SecretletError({ code: 'INTERNAL', reason: 'TokenRequestEmpty', message: `${what}: the TokenRequest status holds no token` });
    }
    this.minted += 1;
    const expires = status?.expirationTimestamp;
    return { token, expirationTimestamp: expires instanceof Date ? expires.toISOString() : (expires ?? '') };
  }

  /** TokenRequests that returned a token (for metrics and tests). */
  get tokensMinted(): number {
    return this.minted;
  }
}
