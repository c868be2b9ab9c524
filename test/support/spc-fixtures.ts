/**
 * Helpers for integration tests of the provider door: build the Mount request the Secrets Store CSI
 * Driver would send for a pod (SPC parameters merged with kubelet's pod keys and a real projected
 * token from the Kubernetes emulator), read back what landed in a target dir, and load the shared
 * SecretProviderClass fixtures (test/fixtures/spc, a copy of ../shared/fixtures/spc) together with the AWS world each one
 * names, so a test can seed the emulator and know the files a mount must produce. Also the "shop"
 * world of the issue-2 tests: 12 Secrets Manager objects (two with jmesPath, one pinned by
 * VersionId, one by stage label, one binary) and 12 SSM parameters (one by version, one by label).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ProviderMountRequest } from '../../src/adapters/grpc/index.js';
import type { LocalStack } from '../../src/emulators/local-stack.js';
import { SPC_FIXTURES_DIR } from './paths.js';

export const FIXTURE_DIR = SPC_FIXTURES_DIR;

export interface PodRef {
  namespace: string;
  serviceAccount: string;
  podName: string;
  podUid: string;
}

export interface DriverMountOptions {
  stack: LocalStack;
  pod: PodRef;
  spcName: string;
  /** The SPC's `spec.parameters`, verbatim. */
  parameters: Record<string, string>;
  targetPath: string;
  currentObjectVersion?: Array<{ id: string; version: string }>;
  /** Leave out the token key kubelet adds (to test the UNAUTHENTICATED path). */
  withoutTokens?: boolean;
}

/** The Mount request the driver sends: parameters + pod keys + tokens, permission 0644 as JSON number. */
export function driverMountRequest(o: DriverMountOptions): ProviderMountRequest {
  const attributes: Record<string, string> = {
    ...o.parameters,
    secretProviderClass: o.spcName,
    'csi.storage.k8s.io/pod.name': o.pod.podName,
    'csi.storage.k8s.io/pod.namespace': o.pod.namespace,
    'csi.storage.k8s.io/pod.uid': o.pod.podUid,
    'csi.storage.k8s.io/serviceAccount.name': o.pod.serviceAccount,
    'csi.storage.k8s.io/ephemeral': 'true',
  };
  if (o.withoutTokens !== true) attributes['csi.storage.k8s.io/serviceAccount.tokens'] = o.stack.kubeletTokens(o.pod);
  return {
    attributes: JSON.stringify(attributes),
    secrets: 'null',
    targetPath: o.targetPath,
    permission: '420',
    currentObjectVersion: o.currentObjectVersion ?? [],
  };
}

/** A fresh, empty target dir for a pod (as kubelet would create it). */
export async function makeTarget(root: string, podUid: string): Promise<string> {
  const target = join(root, 'pods', podUid, 'volumes', 'kubernetes.io~csi', 'secrets', 'mount');
  await mkdir(target, { recursive: true });
  return target;
}

export interface TargetFile {
  mode: number;
  contents: Buffer;
  ino: number;
  mtimeNs: bigint;
}

/** Visible files of a target dir (dot-files are the writer's bookkeeping), by name. */
export async function readTarget(target: string): Promise<Map<string, TargetFile>> {
  const out = new Map<string, TargetFile>();
  for (const name of (await readdir(target)).filter((n) => !n.startsWith('.')).sort()) {
    const st = await stat(join(target, name), { bigint: true });
    out.set(name, { mode: Number(st.mode & 0o777n), contents: await readFile(join(target, name)), ino: Number(st.ino), mtimeNs: st.mtimeNs });
  }
  return out;
}

// ------------------------------------------------------------------ shared SPC fixtures

export interface SpcFixture {
  file: string;
  name: string;
  namespace: string | undefined;
  /** spec.provider, undefined when the fixture has none. */
  provider: string | undefined;
  parameters: Record<string, string>;
}

export async function loadFixture(file: string): Promise<SpcFixture> {
  const doc = parse(await readFile(join(FIXTURE_DIR, file), 'utf8')) as {
    metadata: { name: string; namespace?: string };
    spec: { provider?: string; parameters: Record<string, string> };
  };
  return { file, name: doc.metadata.name, namespace: doc.metadata.namespace, provider: doc.spec.provider, parameters: doc.spec.parameters };
}

export async function fixtureFiles(): Promise<string[]> {
  return (await readdir(FIXTURE_DIR)).filter((f) => f.endsWith('.yaml')).sort();
}

/** The account the fixtures' ARNs name: the emulator must issue ARNs in it for them to resolve. */
export const FIXTURE_ACCOUNT = '123456789012';
/** Region of a mount whose SPC names none (the agent's default region in fixture tests). */
export const FIXTURE_DEFAULT_REGION = 'us-east-1';

/** What a fixture names in AWS and what its mount must produce (from each fixture's header comment). */
export interface FixtureWorld {
  seed(stack: LocalStack): void;
  /** File name → exact contents. */
  files: Record<string, string>;
  /** File name → mode, for files whose mode is not the default 0644. */
  modes?: Record<string, number>;
  /** ObjectVersion id → version, where the fixture pins one. */
  versions?: Record<string, string>;
}

const DB_JSON = JSON.stringify({ username: 'fixture-user', password: 'fixture-pw' });

/**
 * The AWS side of each fixture. ARN-named secrets: the emulator resolves a "partial ARN" (an ARN
 * whose last part is the secret name, without the random 6-character suffix), so a secret created
 * with the name `PrimarySecret-12345` in account 123456789012 answers to
 * `arn:aws:secretsmanager:us-east-1:123456789012:secret:PrimarySecret-12345` exactly as written
 * in the fixture (the emulator is started with that account id).
 */
export const FIXTURE_WORLDS: Record<string, FixtureWorld> = {
  'irsa-explicit.yaml': {
    seed: (s) => void s.aws.putSecret({ name: 'MySecret', region: FIXTURE_DEFAULT_REGION, string: 'irsa-explicit-value' }),
    files: { MySecret: 'irsa-explicit-value' },
  },
  'jmespath-failover.yaml': {
    seed: (s) => {
      s.aws.putSecret({ name: 'MySecret', region: 'us-east-1', string: DB_JSON });
      s.aws.putSecret({ name: 'PrimarySecret-12345', region: 'us-east-1', string: 'primary-value' });
      s.aws.putSecret({ name: 'FailoverSecret-12345', region: 'us-east-2', string: 'failover-value' });
    },
    files: { MySecret: DB_JSON, MySecretUsername: 'fixture-user', MySecretPassword: 'fixture-pw', testArn: 'primary-value' },
    modes: { MySecretPassword: 0o600 },
  },
  'pod-identity.yaml': {
    seed: (s) => void s.aws.putSecret({ name: 'MySecret', region: FIXTURE_DEFAULT_REGION, string: 'pod-identity-value' }),
    files: { MySecret: 'pod-identity-value' },
  },
  'secretsmanager-json-irsa.yaml': {
    seed: (s) => void s.aws.putSecret({ name: 'MyDBSecret', region: FIXTURE_DEFAULT_REGION, string: DB_JSON }),
    files: { MyDBSecret: DB_JSON },
  },
  'ssm-alias-pod-identity-sync.yaml': {
    seed: (s) => {
      s.aws.putParameter({ name: 'piyopiyo', region: FIXTURE_DEFAULT_REGION, value: 'piyo-value' });
      s.aws.putParameter({ name: 'foobar', region: FIXTURE_DEFAULT_REGION, value: 'foobar-value' });
    },
    files: { piyopiyo: 'piyo-value', 'my-parameter': 'foobar-value' },
  },
  'ssm-paths-translated-sync.yaml': {
    seed: (s) => {
      s.aws.putParameter({ name: '/sample-app/db/username', region: FIXTURE_DEFAULT_REGION, value: 'sample-user' });
      s.aws.putParameter({ name: '/sample-app/db/password', region: FIXTURE_DEFAULT_REGION, value: 'sample-pw', type: 'SecureString' });
    },
    files: { '_sample-app_db_username': 'sample-user', '_sample-app_db_password': 'sample-pw' },
  },
  'versions-and-labels.yaml': {
    seed: (s) => {
      const region = 'us-east-1';
      // The pinned VersionId is not current: a newer version exists, so only the pin can select it.
      s.aws.putSecret({ name: 'MySecret-00AABB', region, string: 'pinned-version', versionId: '00112233-AABB-0011-2233-445566778899' });
      s.aws.putSecret({ name: 'MySecret-00AABB', region, string: 'newer-version' });
      s.aws.putParameter({ name: 'MyConfigValue2', region, value: 'config2-v1' });
      s.aws.putParameter({ name: 'MyConfigValue2', region, value: 'config2-v2' });
      s.aws.putSecret({ name: 'MySecret3', region, string: 'secret3-previous' });
      s.aws.putSecret({ name: 'MySecret3', region, string: 'secret3-current' });
      const v1 = s.aws.putParameter({ name: 'MyConfigValue3', region, value: 'config3-prod' });
      s.aws.putParameter({ name: 'MyConfigValue3', region, value: 'config3-latest' });
      s.aws.labelParameter({ name: 'MyConfigValue3', region, version: v1.version, labels: ['prod'] });
    },
    files: {
      // File name of an ARN object without alias: the part after the last '/' (aws-provider.md), i.e. the whole ARN.
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:MySecret-00AABB': 'pinned-version',
      MyConfigValue2: 'config2-v1',
      MySecret3: 'secret3-previous',
      MyConfigValue3: 'config3-prod',
    },
    versions: { 'arn:aws:secretsmanager:us-east-1:123456789012:secret:MySecret-00AABB': '00112233-AABB-0011-2233-445566778899', MyConfigValue2: '1', MyConfigValue3: '1' },
  },
};

// ------------------------------------------------------------------ the "shop" world of the provider-door tests

export const REGION = 'us-east-1';
export const NAMESPACE = 'shop';
export const ROLE_A = 'arn:aws:iam::111122223333:role/shop-web';
export const ROLE_B = 'arn:aws:iam::111122223333:role/shop-admin-ui';
export const SPC_NAME = 'shop-secrets';

export function pod(serviceAccount: string, n: number): PodRef {
  const suffix = createHash('sha256').update(`${serviceAccount}/${n}`).digest('hex').slice(0, 12);
  return { namespace: NAMESPACE, serviceAccount, podName: `${serviceAccount}-${n}`, podUid: `00000000-0000-4000-8000-${suffix}` };
}

export const BINARY = Uint8Array.from([0, 1, 2, 250, 255, 10, 13]);

export const OBJECTS = `
- objectName: "shop/s01"
  objectType: "secretsmanager"
  jmesPath:
    - path: "username"
      objectAlias: "s01-username"
    - path: "password"
      objectAlias: "s01-password"
      filePermission: "0600"
- objectName: "shop/s02"
  objectType: "secretsmanager"
  jmesPath:
    - path: "nested.key"
      objectAlias: "s02-key"
- objectName: "shop/s03"
  objectType: "secretsmanager"
  objectAlias: "s03.bin"
- objectName: "shop/s04"
  objectType: "secretsmanager"
- objectName: "shop/s05"
  objectType: "secretsmanager"
  filePermission: "0640"
- objectName: "shop/s06"
  objectType: "secretsmanager"
- objectName: "shop/s07"
  objectType: "secretsmanager"
- objectName: "shop/s08"
  objectType: "secretsmanager"
- objectName: "shop/s09"
  objectType: "secretsmanager"
- objectName: "shop/s10"
  objectType: "secretsmanager"
- objectName: "shop/s11"
  objectType: "secretsmanager"
  objectVersion: "11111111-1111-4111-8111-111111111111"
- objectName: "shop/s12"
  objectType: "secretsmanager"
  objectVersionLabel: "AWSPREVIOUS"
- objectName: "/shop/p01"
  objectType: "ssmparameter"
- objectName: "/shop/p02"
  objectType: "ssmparameter"
- objectName: "/shop/p03"
  objectType: "ssmparameter"
  objectAlias: "p03"
- objectName: "/shop/p04"
  objectType: "ssmparameter"
- objectName: "/shop/p05"
  objectType: "ssmparameter"
- objectName: "/shop/p06"
  objectType: "ssmparameter"
- objectName: "/shop/p07"
  objectType: "ssmparameter"
- objectName: "/shop/p08"
  objectType: "ssmparameter"
- objectName: "/shop/p09"
  objectType: "ssmparameter"
- objectName: "/shop/p10"
  objectType: "ssmparameter"
- objectName: "/shop/p11"
  objectType: "ssmparameter"
  objectVersion: "1"
- objectName: "/shop/p12"
  objectType: "ssmparameter"
  objectVersionLabel: "prod"
`;

export const PARAMETERS: Record<string, string> = { region: REGION, objects: OBJECTS };

export interface Expected {
  /** File name → contents (string or bytes) and mode. */
  files: Map<string, { contents: Buffer; mode: number }>;
  /** ObjectVersion id → version, as the driver must receive them. */
  versions: Map<string, string>;
}

/** Creates SA A (role A reads shop/*) and SA B (role B reads only shop/s01); seeds every object. */
export function seedShop(stack: LocalStack, options: { batch?: boolean } = {}): Expected {
  const batchGetSecretValue = options.batch ?? true;
  stack.addServiceAccount({ namespace: NAMESPACE, name: 'web', roleArn: ROLE_A, allow: { secrets: ['shop/*'], parameters: ['/shop/*'], batchGetSecretValue } });
  stack.addServiceAccount({ namespace: NAMESPACE, name: 'admin-ui', roleArn: ROLE_B, allow: { secrets: ['shop/s01'], parameters: ['/shop/*'], batchGetSecretValue: true } });

  const files = new Map<string, { contents: Buffer; mode: number }>();
  const versions = new Map<string, string>();
  const file = (name: string, contents: string | Uint8Array, version: string, mode = 0o644): void => {
    files.set(name, { contents: Buffer.from(contents), mode });
    versions.set(name, version);
  };
  const put = (name: string, value: { string?: string; binary?: Uint8Array; versionId?: string }): string =>
    stack.aws.putSecret({ name, region: REGION, ...value }).versionId;

  const s01 = JSON.stringify({ username: 'shopper', password: 'pw-s01' });
  const v01 = put('shop/s01', { string: s01 });
  file('shop_s01', s01, v01);
  file('s01-username', 'shopper', v01);
  file('s01-password', 'pw-s01', v01, 0o600);
  const s02 = JSON.stringify({ nested: { key: 'k-s02' } });
  const v02 = put('shop/s02', { string: s02 });
  file('shop_s02', s02, v02);
  file('s02-key', 'k-s02', v02);
  file('s03.bin', BINARY, put('shop/s03', { binary: BINARY }));
  for (let i = 4; i <= 10; i++) {
    const name = `shop/s${String(i).padStart(2, '0')}`;
    file(name.replace('/', '_'), `value-${i}`, put(name, { string: `value-${i}` }), i === 5 ? 0o640 : 0o644);
  }
  // s11: pinned to its first version while a newer one is current.
  file('shop_s11', 'pinned-11', put('shop/s11', { string: 'pinned-11', versionId: '11111111-1111-4111-8111-111111111111' }));
  put('shop/s11', { string: 'current-11' });
  // s12: by label AWSPREVIOUS.
  file('shop_s12', 'previous-12', put('shop/s12', { string: 'previous-12' }));
  put('shop/s12', { string: 'current-12' });

  for (let i = 1; i <= 10; i++) {
    const name = `/shop/p${String(i).padStart(2, '0')}`;
    const { version } = stack.aws.putParameter({ name, region: REGION, value: `param-${i}`, type: i === 2 ? 'SecureString' : 'String' });
    file(i === 3 ? 'p03' : `_shop_p${String(i).padStart(2, '0')}`, `param-${i}`, String(version));
  }
  stack.aws.putParameter({ name: '/shop/p11', region: REGION, value: 'p11-v1' });
  stack.aws.putParameter({ name: '/shop/p11', region: REGION, value: 'p11-v2' });
  file('_shop_p11', 'p11-v1', '1');
  const prod = stack.aws.putParameter({ name: '/shop/p12', region: REGION, value: 'p12-prod' });
  stack.aws.putParameter({ name: '/shop/p12', region: REGION, value: 'p12-latest' });
  stack.aws.labelParameter({ name: '/shop/p12', region: REGION, version: prod.version, labels: ['prod'] });
  file('_shop_p12', 'p12-prod', String(prod.version));
  return { files, versions };
}
