/**
 * Worlds for the kubelet-door integration tests, seeded into both local emulators the way a cluster
 * admin would set them up: the Node with its region label, service accounts with an IAM role (IRSA
 * annotation and a Pod Identity association), SecretProviderClasses applied to the API server, and
 * the secrets and parameters they name created in the AWS endpoint.
 *
 * Two worlds: the shared SecretProviderClass fixtures (test/fixtures/spc, a copy of ../shared/fixtures/spc, mounted unchanged)
 * and a "shop" fleet whose every value carries a version tag (`v<N>:`), so a reader can tell which
 * version of the payload it sees and whether a pass mixed two.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { KubeObject } from '../../src/emulators/kube/index.js';
import type { LocalStack } from '../../src/emulators/local-stack.js';
import type { KubeletPod } from './kubelet.js';
import { SPC_FIXTURES_DIR } from './paths.js';

export const SPC_API_VERSION = 'secrets-store.csi.x-k8s.io/v1';
export const SHARED_SPC_DIR = SPC_FIXTURES_DIR;
/** The account the shared fixtures' ARNs name; start the AWS emulator with it. */
export const FIXTURE_ACCOUNT_ID = '123456789012';
export const NODE_REGION = 'us-east-1';

/** The Node the agent runs on, labelled with its region as on EKS. */
export function applyNode(stack: LocalStack, nodeName: string, region = NODE_REGION): void {
  stack.kube.apply({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: nodeName, labels: { 'topology.kubernetes.io/region': region } },
  });
}

/** What a test's SecretProviderClass says: the rest is what every `provider: aws` class has. */
export interface AwsSpcSpec {
  name: string;
  namespace: string;
  /** `spec.parameters.objects`, the YAML string users write. */
  objects: string;
  /** `spec.parameters.region`; absent leaves the region to the Node's label. */
  region?: string;
  /** Other `spec.parameters` keys (usePodIdentity, failoverRegion, pathTranslation...). */
  parameters?: Record<string, string>;
  /** `spec.secretObjects`, for Secret sync. */
  secretObjects?: unknown[];
}

/** A `secrets-store.csi.x-k8s.io/v1` SecretProviderClass with `provider: aws`, as users write one. */
export function awsSpc(o: AwsSpcSpec): KubeObject {
  const parameters = { ...(o.region === undefined ? {} : { region: o.region }), ...o.parameters, objects: o.objects };
  return {
    apiVersion: SPC_API_VERSION,
    kind: 'SecretProviderClass',
    metadata: { name: o.name, namespace: o.namespace },
    spec: { provider: 'aws', parameters, ...(o.secretObjects === undefined ? {} : { secretObjects: o.secretObjects }) },
  };
}

/** Applies a SecretProviderClass in `namespace` unless the object names its own. */
export function applySpc(stack: LocalStack, spc: KubeObject, namespace = 'default'): KubeObject {
  return stack.kube.apply({ ...spc, metadata: { ...spc.metadata, namespace: spc.metadata.namespace ?? namespace } });
}

// ---------------------------------------------------------------------------------------------
// The shared fixtures

export interface SharedSpcFixture {
  file: string;
  spc: KubeObject;
  namespace: string;
  name: string;
}

export function loadSharedSpcFixtures(dir = SHARED_SPC_DIR): SharedSpcFixture[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const spc = parse(readFileSync(join(dir, file), 'utf8')) as KubeObject;
      return { file, spc, namespace: spc.metadata.namespace ?? 'default', name: spc.metadata.name ?? '' };
    });
}

/** The service account every shared fixture's pod runs as; its role may read everything seeded. */
export const FIXTURE_SERVICE_ACCOUNT = 'app';

/**
 * Creates everything the shared fixtures name, in the regions they read from: secrets (with the
 * pinned version ids and stages), parameters (with versions and labels), the service account and
 * its role. The AWS emulator must have been started with FIXTURE_ACCOUNT_ID for the ARNs to resolve.
 */
export function seedSharedFixtures(stack: LocalStack, namespace = 'default'): void {
  const { aws } = stack;
  if (aws.accountId !== FIXTURE_ACCOUNT_ID) throw new Error(`start the AWS emulator with accountId ${FIXTURE_ACCOUNT_ID}`);
  stack.addServiceAccount({
    namespace,
    name: FIXTURE_SERVICE_ACCOUNT,
    roleArn: `arn:aws:iam::${FIXTURE_ACCOUNT_ID}:role/fixtures-reader`,
    allow: { secrets: ['*'], parameters: ['*'], batchGetSecretValue: true },
  });
  const east1 = 'us-east-1';
  const east2 = 'us-east-2';
  const mySecret = JSON.stringify({ username: 'fixture-user', password: 'fixture-pass' });
  aws.putSecret({ name: 'MySecret', region: east1, string: mySecret });
  aws.putSecret({ name: 'MySecret', region: east2, string: mySecret });
  aws.putSecret({ name: 'PrimarySecret-12345', region: east1, string: 'primary-value' });
  aws.putSecret({ name: 'FailoverSecret-12345', region: east2, string: 'failover-value' });
  aws.putSecret({ name: 'MyDBSecret', region: east1, string: '{"host":"db.local","port":5432}' });
  // versions-and-labels: a pinned version that is no longer current, and an AWSPREVIOUS.
  aws.putSecret({ name: 'MySecret-00AABB', region: east1, string: 'pinned-version', versionId: '00112233-AABB-0011-2233-445566778899' });
  aws.putSecret({ name: 'MySecret-00AABB', region: east1, string: 'newer-version' });
  aws.putSecret({ name: 'MySecret3', region: east1, string: 'previous-version' });
  aws.putSecret({ name: 'MySecret3', region: east1, string: 'current-version' });
  aws.putParameter({ name: 'MyConfigValue2', region: east1, value: 'config-v1' });
  aws.putParameter({ name: 'MyConfigValue2', region: east1, value: 'config-v2' });
  const prod = aws.putParameter({ name: 'MyConfigValue3', region: east1, value: 'labelled-prod' });
  aws.labelParameter({ name: 'MyConfigValue3', region: east1, version: prod.version, labels: ['prod'] });
  aws.putParameter({ name: 'MyConfigValue3', region: east1, value: 'unlabelled-latest' });
  // ssm-alias-pod-identity-sync and ssm-paths-translated-sync
  aws.putParameter({ name: 'piyopiyo', region: east1, value: 'piyo-value' });
  aws.putParameter({ name: 'foobar', region: east1, value: 'foobar-value' });
  aws.putParameter({ name: '/sample-app/db/username', region: east1, value: 'sample-user' });
  aws.putParameter({ name: '/sample-app/db/password', region: east1, value: 'sample-pass', type: 'SecureString' });
}

/** What a pod mounting each shared fixture must see: file name → contents. */
export const SHARED_FIXTURE_FILES: Readonly<Record<string, Record<string, string>>> = {
  'irsa-explicit.yaml': { MySecret: '{"username":"fixture-user","password":"fixture-pass"}' },
  'jmespath-failover.yaml': {
    MySecret: '{"username":"fixture-user","password":"fixture-pass"}',
    MySecretUsername: 'fixture-user',
    MySecretPassword: 'fixture-pass',
    testArn: 'primary-value',
  },
  'secretsmanager-json-irsa.yaml': { MyDBSecret: '{"host":"db.local","port":5432}' },
  'ssm-alias-pod-identity-sync.yaml': { piyopiyo: 'piyo-value', 'my-parameter': 'foobar-value' },
  'ssm-paths-translated-sync.yaml': { '_sample-app_db_username': 'sample-user', '_sample-app_db_password': 'sample-pass' },
  'versions-and-labels.yaml': {
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:MySecret-00AABB': 'pinned-version',
    MyConfigValue2: 'config-v1',
    MySecret3: 'previous-version',
    MyConfigValue3: 'labelled-prod',
  },
};

// ---------------------------------------------------------------------------------------------
// The shop fleet: 20 pods, 4 service accounts, 2 SecretProviderClasses

export const SHOP_NAMESPACE = 'shop';
export const SHOP_SERVICE_ACCOUNTS = ['web', 'worker', 'cron', 'admin'] as const;
/** IRSA, explicit region, JMESPath aliases of a JSON secret plus an SSM parameter. */
export const SHOP_FILES_SPC = 'shop-files';
/** Pod Identity, node region, a Secrets Manager secret and a SecureString, with secretObjects. */
export const SHOP_SYNC_SPC = 'shop-sync';

/** The files each SPC's pods see, all tagged `v<N>:` by the values below. */
export const SHOP_FILES: Readonly<Record<string, readonly string[]>> = {
  [SHOP_FILES_SPC]: ['shop_db', 'db-user', 'db-pass', 'color'],
  [SHOP_SYNC_SPC]: ['api-key', 'token'],
};

/** The version tag a reader extracts; self-contained, as the consistency reader needs. */
export const shopVersionOf = (text: string): string | undefined => /v(\d+):/.exec(text)?.[1];

function shopSpcs(): KubeObject[] {
  return [
    {
      apiVersion: SPC_API_VERSION,
      kind: 'SecretProviderClass',
      metadata: { name: SHOP_FILES_SPC, namespace: SHOP_NAMESPACE },
      spec: {
        provider: 'aws',
        parameters: {
          region: 'us-east-1',
          usePodIdentity: 'false',
          objects: [
            '- objectName: shop/db',
            '  objectType: secretsmanager',
            '  jmesPath:',
            '    - { path: username, objectAlias: db-user }',
            '    - { path: password, objectAlias: db-pass, filePermission: "0600" }',
            '- objectName: /shop/color',
            '  objectType: ssmparameter',
            '  objectAlias: color',
          ].join('\n'),
        },
      },
    },
    {
      apiVersion: SPC_API_VERSION,
      kind: 'SecretProviderClass',
      metadata: { name: SHOP_SYNC_SPC, namespace: SHOP_NAMESPACE },
      spec: {
        provider: 'aws',
        secretObjects: [{ secretName: 'shop-api', type: 'Opaque', data: [{ objectName: 'api-key', key: 'API_KEY' }] }],
        parameters: {
          usePodIdentity: 'true',
          objects: [
            '- objectName: shop/api-key',
            '  objectType: secretsmanager',
            '  objectAlias: api-key',
            '- objectName: /shop/token',
            '  objectType: ssmparameter',
            '  objectAlias: token',
          ].join('\n'),
        },
      },
    },
  ];
}

/** The AWS version of each shop object after `putShopVersion`, keyed by its file (= SPCPS object id). */
export type ShopVersions = Record<string, string>;

/** Puts version `n` of every shop value: each SPC's payload then carries only `v<n>:` tags. */
export function putShopVersion(stack: LocalStack, n: number): ShopVersions {
  const region = 'us-east-1';
  const db = stack.aws.putSecret({ name: 'shop/db', region, string: JSON.stringify({ username: `v${n}:user`, password: `v${n}:pass` }) });
  const color = stack.aws.putParameter({ name: '/shop/color', region, value: `v${n}:blue` });
  // Sizes change with the version, so a torn file could not pass for a whole one.
  const key = stack.aws.putSecret({ name: 'shop/api-key', region, string: `v${n}:key-${'k'.repeat(64 * n)}` });
  const token = stack.aws.putParameter({ name: '/shop/token', region, value: `v${n}:token`, type: 'SecureString' });
  return { shop_db: db.versionId, color: String(color.version), 'api-key': key.versionId, token: String(token.version) };
}

export interface ShopFleet {
  pods: KubeletPod[];
  /** Versions of what was seeded (version 1). */
  versions: ShopVersions;
  /** The files of a pod's volume. */
  filesOf(pod: KubeletPod): readonly string[];
}

/** Seeds the shop world (version 1) and returns `count` pods spread over the accounts and SPCs. */
export function seedShopFleet(stack: LocalStack, count = 20): ShopFleet {
  for (const name of SHOP_SERVICE_ACCOUNTS) {
    stack.addServiceAccount({
      namespace: SHOP_NAMESPACE,
      name,
      roleArn: `arn:aws:iam::${stack.aws.accountId}:role/shop-${name}`,
      allow: { secrets: ['shop/*'], parameters: ['/shop/*'], batchGetSecretValue: true },
    });
  }
  for (const spc of shopSpcs()) applySpc(stack, spc);
  const versions = putShopVersion(stack, 1);
  const pods: KubeletPod[] = Array.from({ length: count }, (_, i) => ({
    namespace: SHOP_NAMESPACE,
    name: `shop-${i}`,
    uid: `0000000${i % 10}-5eed-4000-8000-${String(i).padStart(12, '0')}`,
    serviceAccount: SHOP_SERVICE_ACCOUNTS[i % SHOP_SERVICE_ACCOUNTS.length]!,
    // Each run of 8 pods pairs every service account with both SPCs.
    secretProviderClass: Math.floor(i / SHOP_SERVICE_ACCOUNTS.length) % 2 === 0 ? SHOP_FILES_SPC : SHOP_SYNC_SPC,
  }));
  return { pods, versions, filesOf: (pod) => SHOP_FILES[pod.secretProviderClass] ?? [] };
}
