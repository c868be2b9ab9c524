/**
 * A test OIDC issuer: an RSA key pair whose public half the AWS emulator trusts, and RS256 service
 * account tokens shaped like the ones kubelet projects into pods.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { AwsIdentity } from '../../../src/core/model.js';

export const ISSUER = 'https://kube.test';

export interface TestIssuer {
  jwks: { keys: JsonWebKey[] };
  identity(o: {
    namespace: string;
    serviceAccount: string;
    podUid?: string;
    mode?: AwsIdentity['mode'];
    /** Sign the token for another service account than the identity claims. */
    tokenFor?: { namespace: string; serviceAccount: string };
  }): AwsIdentity;
}

function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

function token(privateKey: KeyObject, claims: Record<string, unknown>): string {
  const head = `${b64({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${sign('sha256', Buffer.from(head), privateKey).toString('base64url')}`;
}

export function createTestIssuer(): TestIssuer {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  return {
    jwks: { keys: [jwk] },
    identity(o) {
      const mode = o.mode ?? 'irsa';
      const subject = o.tokenFor ?? o;
      const podUid = o.podUid ?? 'pod-uid-1';
      const now = Math.floor(Date.now() / 1000);
      return {
        mode,
        namespace: o.namespace,
        serviceAccount: o.serviceAccount,
        podUid,
        preferredAddressType: 'auto',
        token: token(privateKey, {
          iss: ISSUER,
          aud: [mode === 'irsa' ? 'sts.amazonaws.com' : 'pods.eks.amazonaws.com'],
          sub: `system:serviceaccount:${subject.namespace}:${subject.serviceAccount}`,
          iat: now,
          exp: now + 3600,
          'kubernetes.io': { namespace: subject.namespace, pod: { name: 'p', uid: podUid }, serviceaccount: { name: subject.serviceAccount } },
        }),
      };
    },
  };
}
