/**
 * The demo world `secretlet dev` builds on the local emulators: one service account with an IRSA
 * role, one Secrets Manager secret (JSON, with two JMESPath files), one SSM parameter, and the
 * SecretProviderClass that mounts them — the same YAML a user would apply to a real cluster.
 */
import type { LocalStack } from '../emulators/local-stack.js';

export const DEMO = {
  namespace: 'default',
  serviceAccount: 'demo-app',
  roleArn: 'arn:aws:iam::111122223333:role/secretlet-demo',
  region: 'us-east-1',
  spcName: 'demo-secrets',
  podName: 'demo-pod',
  podUid: '6f1c2a53-1d7e-4d1b-9a55-3f0f6f1c2a53',
} as const;

export const DEMO_OBJECTS = `- objectName: "demo/db-credentials"
  objectType: "secretsmanager"
  jmesPath:
    - path: "username"
      objectAlias: "db-username"
    - path: "password"
      objectAlias: "db-password"
      filePermission: "0600"
- objectName: "/demo/api-url"
  objectType: "ssmparameter"
  objectAlias: "api-url"
`;

export function demoSecretProviderClass(): Record<string, unknown> {
  return {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name: DEMO.spcName, namespace: DEMO.namespace },
    spec: { provider: 'aws', parameters: { region: DEMO.region, objects: DEMO_OBJECTS } },
  };
}

export function seedDemo(stack: LocalStack): void {
  stack.addServiceAccount({
    namespace: DEMO.namespace,
    name: DEMO.serviceAccount,
    roleArn: DEMO.roleArn,
    allow: { secrets: ['demo/*'], parameters: ['/demo/*'], batchGetSecretValue: true },
  });
  stack.aws.putSecret({ name: 'demo/db-credentials', region: DEMO.region, string: JSON.stringify({ username: 'demo', password: 'not-a-real-password' }) });
  stack.aws.putParameter({ name: '/demo/api-url', region: DEMO.region, value: 'https://api.demo.internal', type: 'String' });
  stack.kube.apply(demoSecretProviderClass() as never);
  stack.kube.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: DEMO.podName, namespace: DEMO.namespace, uid: DEMO.podUid }, spec: { serviceAccountName: DEMO.serviceAccount, nodeName: 'local-node' } } as never);
}
