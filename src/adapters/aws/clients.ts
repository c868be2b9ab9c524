/**
 * SDK clients, built once per (service, region, credential key) and reused across mounts so that
 * connections are kept alive and no TLS handshake is repeated per mount (ASCP builds new clients per
 * mount, aws-provider.md §10.4). Clients run with `maxAttempts: 1`: retries and budgets belong to
 * retry.ts / rate-budget.ts. The fetchers only see the narrow `SecretsManagerApi` / `SsmApi` / `StsApi`
 * shapes, which tests implement with fakes.
 *
 * `endpoint` overrides every service's endpoint (emulator); when unset nothing is overridden, so the
 * SDK's own `AWS_ENDPOINT_URL*` variables keep working.
 */
import http from 'node:http';
import https from 'node:https';
import { LRUCache } from 'lru-cache';
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type {
  BatchGetSecretValueCommandInput,
  BatchGetSecretValueCommandOutput,
  GetSecretValueCommandInput,
  GetSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { GetParametersCommandInput, GetParametersCommandOutput } from '@aws-sdk/client-ssm';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentials } from './credentials/types.js';
import type { StsApi } from './credentials/irsa.js';

export interface SecretsManagerApi {
  batchGetSecretValue(input: BatchGetSecretValueCommandInput): Promise<BatchGetSecretValueCommandOutput>;
  getSecretValue(input: GetSecretValueCommandInput): Promise<GetSecretValueCommandOutput>;
}

export interface SsmApi {
  getParameters(input: GetParametersCommandInput): Promise<GetParametersCommandOutput>;
}

export interface AwsClientPoolOptions {
  /** One endpoint for every service (emulator); unset = SDK defaults and AWS_ENDPOINT_URL*. */
  endpoint?: string;
  /**
   * Whole-request deadline of one attempt, from the request's creation: a wait for one of the
   * shared sockets counts too. @default 10_000
   */
  requestTimeoutMs?: number;
  /** Clients kept (each holds its own credentials provider). @default 500 */
  maxClients?: number;
}

const APP_ID = 'secretlet';

type CredentialSource = () => Promise<AwsCredentials>;

function sdkCredentials(source: CredentialSource) {
  return async () => {
    const c = await source();
    return {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken === undefined ? {} : { sessionToken: c.sessionToken }),
      expiration: new Date(c.expiresAt),
    };
  };
}

export class AwsClientPool {
  readonly #options: AwsClientPoolOptions;
  readonly #httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  readonly #httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });
  /** The narrow API of each client, keyed by service, region and credential key. */
  readonly #clients: LRUCache<string, object>;

  constructor(options: AwsClientPoolOptions = {}) {
    this.#options = options;
    // No `dispose`: an SDK client's destroy() destroys its handler's agents, and these are the two
    // agents every client shares, so evicting one client would reset every in-flight AWS request
    // on the node. An evicted client owns nothing else (its credentials come from the credential
    // cache), so dropping it is enough; its in-flight requests finish and GC takes the rest.
    this.#clients = new LRUCache({ max: options.maxClients ?? 500 });
  }

  #common(region: string) {
    return {
      region,
      maxAttempts: 1,
      userAgentAppId: APP_ID,
      requestHandler: {
        httpAgent: this.#httpAgent,
        httpsAgent: this.#httpsAgent,
        requestTimeout: this.#options.requestTimeoutMs ?? 10_000,
        // Without it @smithy/node-http-handler ≥ 4.1 only logs a warning when the timeout passes and
        // waits on: an endpoint that accepts and never answers (a blackholed VPC endpoint) held the
        // mount, and its in-flight slot, until kubelet gave up, and every later drain timed out.
        throwOnRequestTimeout: true,
      },
      ...(this.#options.endpoint === undefined ? {} : { endpoint: this.#options.endpoint }),
    };
  }

  #memo<T extends object>(key: string, build: () => T): T {
    const hit = this.#clients.get(key);
    if (hit) return hit as T;
    const built = build();
    this.#clients.set(key, built);
    return built;
  }

  secretsManager(region: string, credentialKey: string, credentials: CredentialSource): SecretsManagerApi {
    return this.#memo(`sm|${region}|${credentialKey}`, () => {
      const client = new SecretsManagerClient({ ...this.#common(region), credentials: sdkCredentials(credentials) });
      const api: SecretsManagerApi = {
        batchGetSecretValue: (input) => client.send(new BatchGetSecretValueCommand(input)),
        getSecretValue: (input) => client.send(new GetSecretValueCommand(input)),
      };
      return api;
    });
  }

  ssm(region: string, credentialKey: string, credentials: CredentialSource): SsmApi {
    return this.#memo(`ssm|${region}|${credentialKey}`, () => {
      const client = new SSMClient({ ...this.#common(region), credentials: sdkCredentials(credentials) });
      const api: SsmApi = { getParameters: (input) => client.send(new GetParametersCommand(input)) };
      return api;
    });
  }

  /** Regional STS, unsigned (AssumeRoleWithWebIdentity needs no credentials). */
  sts(region: string): StsApi {
    return this.#memo(`sts|${region}`, () => {
      const client = new STSClient({ ...this.#common(region) });
      const api: StsApi = {
        assumeRoleWithWebIdentity: (input) => client.send(new AssumeRoleWithWebIdentityCommand(input)),
      };
      return api;
    });
  }

  /** Drops every client and destroys the shared agents, once, at shutdown. */
  close(): void {
    this.#clients.clear();
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}
