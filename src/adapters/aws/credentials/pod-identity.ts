/**
 * EKS Pod Identity: the pod's token (audience `pods.eks.amazonaws.com`) is presented, raw, in the
 * `Authorization` header of a GET to the node's Pod Identity agent. Unlike ASCP (aws-provider.md §10.3),
 * `auto` really falls back to the IPv6 endpoint when the IPv4 one cannot be reached, and the HTTP
 * timeout is bounded and configurable (EKS Auto Mode hangs, ASCP#537).
 */
import http from 'node:http';
import { SecretletError } from '../../../core/errors.js';
import type { AddressPreference, AwsIdentity } from '../../../core/model.js';
import type { Clock, StartTimer } from '../../../core/ports/clock.js';
import { callWithRetries } from '../retry.js';
import type { RetryPolicy } from '../retry.js';
import type { AwsCredentials, CredentialProvider, CredentialScope, ObtainRequest } from './types.js';

export const POD_IDENTITY_IPV4 = 'http://169.254.170.23/v1/credentials';
export const POD_IDENTITY_IPV6 = 'http://[fd00:ec2::23]/v1/credentials';

export interface PodIdentityCredentialProviderOptions {
  /** Overrides the agent endpoint for every address preference (tests, emulator). */
  endpoint?: string;
  /** Replaces the link-local IPv4/IPv6 agent addresses (tests of the `auto` fallback). */
  agentAddresses?: { ipv4: string; ipv6: string };
  /** Whole-request timeout per endpoint attempt. @default 5000 */
  timeoutMs?: number;
  /** Starts the timeout of one attempt (tests end it when they choose). @default setTimeout */
  requestTimer?: StartTimer;
  retry: RetryPolicy;
  clock: Clock;
  /** Credentials without an `Expiration` are kept this long. @default 900_000 */
  defaultLifetimeMs?: number;
}

/** The endpoints to try, in order, for an address preference. */
export function podIdentityEndpoints(
  preference: AddressPreference,
  override?: string,
  addresses: { ipv4: string; ipv6: string } = { ipv4: POD_IDENTITY_IPV4, ipv6: POD_IDENTITY_IPV6 },
): string[] {
  if (override !== undefined) return [override];
  if (preference === 'ipv6') return [addresses.ipv6];
  if (preference === 'ipv4') return [addresses.ipv4];
  return [addresses.ipv4, addresses.ipv6];
}

/** The whole attempt, from sending to the end of the body (not reset by each byte, as a socket timeout is). */
const realTimer: StartTimer = (ms, expired) => {
  const timer = setTimeout(expired, ms);
  return () => clearTimeout(timer);
};

interface AgentReply {
  status: number;
  body: string;
}

export class PodIdentityCredentialProvider implements CredentialProvider {
  readonly mode = 'podIdentity' as const;
  readonly #options: PodIdentityCredentialProviderOptions;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(options: PodIdentityCredentialProviderOptions) {
    this.#options = options;
  }

  /** The agent's credentials are not regional: one entry per service account serves every region. */
  async scope(): Promise<CredentialScope> {
    return { key: '' };
  }

  async obtain(request: ObtainRequest): Promise<AwsCredentials> {
    const { identity, region, token } = request;
    if (/[\r\n]/.test(token)) {
      throw new SecretletError({ code: 'UNAUTHENTICATED', reason: 'InvalidToken', message: 'service account token contains a line break' });
    }
    const reply = await callWithRetries(
      this.#options.retry,
      { action: 'PodIdentityCredentials', region, objectId: `${identity.namespace}/${identity.serviceAccount}` },
      () => this.#getFromFirstReachable(identity, token),
    );
    return this.#parse(reply, identity, region);
  }

  /** Releases kept-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }

  async #getFromFirstReachable(identity: AwsIdentity, token: string): Promise<AgentReply> {
    const endpoints = podIdentityEndpoints(identity.preferredAddressType, this.#options.endpoint, this.#options.agentAddresses);
    let lastError: unknown;
    for (const url of endpoints) {
      try {
        const reply = await this.#get(url, token);
        if (reply.status >= 200 && reply.status < 300) return reply;
        throw agentError(reply);
      } catch (err) {
        // Only a transport failure moves on to the next address; an answer from the agent is final.
        if (hasHttpStatus(err)) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }

  #get(url: string, token: string): Promise<AgentReply> {
    const timeoutMs = this.#options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const req = http.get(url, { agent: this.#agent, headers: { Authorization: token, Accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          cancelTimeout();
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (err) => {
          cancelTimeout();
          reject(err);
        });
      });
      // ETIMEDOUT maps to DEADLINE_EXCEEDED, which callWithRetries retries: on a new node the agent may
      // not answer yet (ASCP#536/#537), and the SDK ASCP uses retries a silent agent too (§10.3).
      const cancelTimeout = (this.#options.requestTimer ?? realTimer)(timeoutMs, () => {
        req.destroy(Object.assign(new Error(`Pod Identity agent did not answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
      req.on('error', (err) => {
        cancelTimeout();
        reject(err);
      });
    });
  }

  #parse(reply: AgentReply, identity: AwsIdentity, region: string): AwsCredentials {
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(reply.body);
      if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
    } catch {
      // handled below as a missing field
    }
    const { AccessKeyId, SecretAccessKey, Token, Expiration } = body;
    if (typeof AccessKeyId !== 'string' || typeof SecretAccessKey !== 'string') {
      throw new SecretletError({
        code: 'UNAVAILABLE',
        reason: 'InvalidAgentResponse',
        message: `Pod Identity agent returned no credentials for ${identity.namespace}/${identity.serviceAccount} (${region})`,
      });
    }
    const expiresAt =
      typeof Expiration === 'string' && !Number.isNaN(Date.parse(Expiration))
        ? Date.parse(Expiration)
        : this.#options.clock.now() + (this.#options.defaultLifetimeMs ?? 900_000);
    return { accessKeyId: AccessKeyId, secretAccessKey: SecretAccessKey, ...(typeof Token === 'string' ? { sessionToken: Token } : {}), expiresAt };
  }
}

function hasHttpStatus(err: unknown): boolean {
  if (err instanceof SecretletError) return hasHttpStatus(err.cause);
  return typeof err === 'object' && err !== null && typeof (err as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode === 'number';
}

/** An SDK-shaped error from an agent reply (`{"code","message"}`), so error-mapping classifies it. */
function agentError(reply: AgentReply): Error {
  let code = `Http${reply.status}`;
  let message = '';
  try {
    const parsed = JSON.parse(reply.body) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === 'string' && parsed.code !== '') code = parsed.code;
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: keep the status-derived code
  }
  return Object.assign(new Error(message), { name: code, $metadata: { httpStatusCode: reply.status } });
}

