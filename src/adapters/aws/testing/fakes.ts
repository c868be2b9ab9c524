/**
 * Test doubles for the AWS adapter's seams: clocks that tests drive, unsigned service-account tokens,
 * and in-memory Secrets Manager / SSM / STS APIs that answer like the SDK (same output shapes, real
 * SDK exception classes). Used by unit tests only.
 */
import { ResourceNotFoundException, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import type {
  BatchGetSecretValueCommandInput,
  BatchGetSecretValueCommandOutput,
  GetSecretValueCommandInput,
  GetSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import type { GetParametersCommandInput, GetParametersCommandOutput } from '@aws-sdk/client-ssm';
import type { AwsIdentity } from '../../../core/model.js';
import type { Clock } from '../../../core/ports/clock.js';
import type { SecretsManagerApi, SsmApi } from '../clients.js';
import type { CredentialLease } from '../credentials/credential-cache.js';
import { checkTokenNamesIdentity } from '../credentials/token-claims.js';

/** Time moves only when something sleeps (every sleep returns at once) or the test sets it. */
export class InstantClock implements Clock {
  t = 1_700_000_000_000;
  readonly sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

/** Sleeps wait until the test calls `advance`. */
export class ManualClock implements Clock {
  t = 1_700_000_000_000;
  #waiting: Array<{ at: number; resolve: () => void }> = [];
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#waiting.push({ at: this.t + ms, resolve }));
  }
  get sleepers(): number {
    return this.#waiting.length;
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.#waiting.filter((w) => w.at <= this.t);
    this.#waiting = this.#waiting.filter((w) => w.at > this.t);
    for (const w of due) w.resolve();
  }
}

/** An unsigned JWT with the claims the agent checks (the signature part is a placeholder). */
export function unsignedToken(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none' })}.${enc(claims)}.sig`;
}

export function identityFor(o: {
  namespace: string;
  serviceAccount: string;
  podUid?: string;
  mode?: AwsIdentity['mode'];
  /** The SA the token names, when it differs from the identity (attack tests). */
  tokenFor?: { namespace: string; serviceAccount: string };
  expSeconds?: number;
}): AwsIdentity {
  const subject = o.tokenFor ?? o;
  return {
    mode: o.mode ?? 'irsa',
    namespace: o.namespace,
    serviceAccount: o.serviceAccount,
    podUid: o.podUid ?? 'uid-1',
    preferredAddressType: 'auto',
    token: unsignedToken({
      sub: `system:serviceaccount:${subject.namespace}:${subject.serviceAccount}`,
      exp: o.expSeconds ?? 4_000_000_000,
      'kubernetes.io': { pod: { uid: o.podUid ?? 'uid-1' } },
    }),
  };
}

export interface FakeSecret {
  name: string;
  arn: string;
  versionId: string;
  string?: string;
  binary?: Uint8Array;
}

const meta = { $metadata: {} };

/** An un-modeled AWS error as the SDK surfaces it (e.g. AccessDeniedException, ThrottlingException). */
export function awsError(name: string, httpStatusCode: number, message = name): Error {
  return new SecretsManagerServiceException({ name, message, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });
}

const OWN_ACCOUNT = '111122223333';

/** Secrets Manager in memory. `failBatch` / `failGet` let a test make the next calls throw. */
export class FakeSecretsManager implements SecretsManagerApi {
  readonly secrets: FakeSecret[] = [];
  readonly batchCalls: string[][] = [];
  readonly getCalls: GetSecretValueCommandInput[] = [];
  failBatch: Array<() => Error> = [];
  failGet: Array<() => Error> = [];
  denyBatch = false;

  /** A secret of the caller's account (111122223333), or of `account` (reachable by ARN only). */
  put(name: string, value: string, versionId = 'v1', account = OWN_ACCOUNT): FakeSecret {
    const s: FakeSecret = { name, arn: `arn:aws:secretsmanager:us-east-1:${account}:secret:${name}-AbCdEf`, versionId, string: value };
    this.secrets.push(s);
    return s;
  }

  /** As AWS resolves an id: a name in the caller's own account, an ARN (full or partial) anywhere. */
  #find(id: string): FakeSecret | undefined {
    return this.secrets.find((s) => (s.name === id && s.arn.includes(`:${OWN_ACCOUNT}:`)) || s.arn === id || s.arn.slice(0, -7) === id);
  }

  async batchGetSecretValue(input: BatchGetSecretValueCommandInput): Promise<BatchGetSecretValueCommandOutput> {
    this.batchCalls.push([...(input.SecretIdList ?? [])]);
    const failure = this.failBatch.shift();
    if (failure) throw failure();
    if (this.denyBatch) throw awsError('AccessDeniedException', 400, 'not authorized to perform: secretsmanager:BatchGetSecretValue');
    const out: BatchGetSecretValueCommandOutput = { SecretValues: [], Errors: [], ...meta };
    for (const id of input.SecretIdList ?? []) {
      const s = this.#find(id);
      if (!s) out.Errors?.push({ SecretId: id, ErrorCode: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." });
      else out.SecretValues?.push({ Name: s.name, ARN: s.arn, VersionId: s.versionId, SecretString: s.string, SecretBinary: s.binary });
    }
    // AWS answers in no particular order.
    out.SecretValues?.reverse();
    return out;
  }

  async getSecretValue(input: GetSecretValueCommandInput): Promise<GetSecretValueCommandOutput> {
    this.getCalls.push(input);
    const failure = this.failGet.shift();
    if (failure) throw failure();
    const s = this.#find(input.SecretId ?? '');
    if (!s || (input.VersionId !== undefined && input.VersionId !== s.versionId)) {
      throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", ...meta });
    }
    return { Name: s.name, ARN: s.arn, VersionId: s.versionId, SecretString: s.string, SecretBinary: s.binary, ...meta };
  }
}

export interface FakeParameter {
  name: string;
  value: string;
  version: number;
  labels?: string[];
}

/** SSM Parameter Store in memory, answering in alphabetical order like the real one. */
export class FakeSsm implements SsmApi {
  readonly params: FakeParameter[] = [];
  readonly calls: string[][] = [];
  failNext: Array<() => Error> = [];
  /** Extra entries added to every answer (to check unmatched entries are ignored). */
  extra: Array<{ Name: string; Value: string; Version: number }> = [];

  put(name: string, value: string, version = 1, labels: string[] = []): void {
    this.params.push({ name, value, version, labels });
  }

  async getParameters(input: GetParametersCommandInput): Promise<GetParametersCommandOutput> {
    this.calls.push([...(input.Names ?? [])]);
    const failure = this.failNext.shift();
    if (failure) throw failure();
    const out: GetParametersCommandOutput = { Parameters: [...this.extra], InvalidParameters: [], ...meta };
    for (const sent of input.Names ?? []) {
      const [name, selector] = splitSelector(sent);
      const p = this.params.find(
        (x) =>
          (x.name === name || `arn:aws:ssm:us-east-1:111122223333:parameter${x.name}` === name) &&
          (selector === undefined || String(x.version) === selector || (x.labels ?? []).includes(selector)),
      );
      if (!p) out.InvalidParameters?.push(sent);
      else
        out.Parameters?.push({
          Name: p.name,
          ARN: `arn:aws:ssm:us-east-1:111122223333:parameter${p.name}`,
          Value: p.value,
          Version: p.version,
          ...(selector === undefined ? {} : { Selector: `:${selector}` }),
        });
    }
    out.Parameters?.sort((a, b) => (a.Name ?? '').localeCompare(b.Name ?? ''));
    return out;
  }
}

function splitSelector(sent: string): [string, string | undefined] {
  const at = sent.lastIndexOf(':');
  if (sent.startsWith('arn:') ? sent.split(':').length <= 6 : at < 0) return [sent, undefined];
  return [sent.slice(0, at), sent.slice(at + 1)];
}

/**
 * Credentials keyed by service account and region, for driving AwsSecretSource without STS. By
 * default every caller's token is checked against its identity, as the real cache does;
 * `checkTokens: false` skips that where only the fetcher's own cost is measured (bench/micro).
 */
export class FakeCredentials {
  readonly #checkTokens: boolean;

  constructor(options: { checkTokens?: boolean } = {}) {
    this.#checkTokens = options.checkTokens ?? true;
  }

  acquire = async (identity: AwsIdentity, region: string): Promise<CredentialLease> => {
    if (this.#checkTokens) checkTokenNamesIdentity(identity, 0);
    return {
      key: `${identity.namespace}/${identity.serviceAccount}|${region}`,
      mode: identity.mode,
      roleArn: undefined,
      credentials: { accessKeyId: 'AK', secretAccessKey: 'SK', expiresAt: Infinity },
    };
  };
  current = async () => ({ accessKeyId: 'AK', secretAccessKey: 'SK', expiresAt: Infinity });
  clear = () => undefined;
}
