/**
 * One HTTP entry for every emulated door. It classifies a request by wire protocol (awsJson1_1 by
 * `X-Amz-Target`, awsQuery by form body, the pod identity agent by path), then runs the same
 * pipeline for all: authenticate → scripted fault → rate limit → handler → count → latency → answer,
 * rendering errors in the caller's protocol. Handlers never see HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsApiError, awsError, outcomeOf } from './aws-error.js';
import type { CallCounter } from './counters.js';
import { identityOf, type CredentialRegistry, type Principal } from './credentials.js';
import type { CallFaultKind, FaultPlan } from './faults.js';
import { JsonInput, parseJsonBody } from './json-input.js';
import { existsInAws, notEmulated, type EmulatedService } from './not-emulated.js';
import { credentialsServiceUnavailable, POD_IDENTITY_PATH, podIdentityCredentials, type PodIdentityDeps } from './pod-identity.js';
import type { RateLimiter } from './rate-limit.js';
import type { JsonHandler } from './secrets-manager-read.js';
import { verifySigV4 } from './sigv4-verify.js';
import { asStsAuthError, assumeRoleWithWebIdentity, getCallerIdentity, type StsDeps } from './sts.js';
import type { CallOutcome } from './types.js';
import { queryErrorResponse, queryResponse } from './xml.js';

export interface RouterDeps {
  secretsManager: Record<string, JsonHandler>;
  ssm: Record<string, JsonHandler>;
  sts: StsDeps;
  podIdentity: PodIdentityDeps;
  credentials: CredentialRegistry;
  counters: CallCounter;
  faults: FaultPlan;
  rateLimiter: RateLimiter;
  now: () => number;
  latencyMs: () => number;
  delay: (ms: number) => Promise<void>;
}

type Protocol = 'json' | 'query' | 'pod';

interface Reply {
  status: number;
  contentType: string;
  body: string;
  /** One id per request: the `x-amzn-requestid` header and the awsQuery body's `RequestId` agree, as in AWS. */
  requestId: string;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const JSON_SERVICES: Record<string, { service: EmulatedService; invalidCode: string }> = {
  secretsmanager: { service: 'secretsmanager', invalidCode: 'InvalidParameterException' },
  AmazonSSM: { service: 'ssm', invalidCode: 'ValidationException' },
};
const STS_DEFAULT_REGION = 'us-east-1';
const STS_ACTIONS = ['AssumeRoleWithWebIdentity', 'GetCallerIdentity'];
/** The counted identity of a caller the emulator has not verified (unsigned, or refused before its token was checked). */
const ANONYMOUS = 'anonymous';
/** The counted action of a call naming an operation the service does not have in AWS. */
const UNKNOWN_ACTION = 'unknown';
/** The counted region of a credential scope that does not look like a region. */
const INVALID_REGION = 'invalid';
const REGION_SHAPE = /^[a-z0-9-]{1,32}$/;

/** The failure a fault or an empty bucket produces, in the words of each service. */
function injectedError(kind: CallFaultKind, protocol: Protocol, service: string): AwsApiError {
  if (kind === 'throttle') {
    if (protocol === 'query') return awsError('Throttling', 'Rate exceeded');
    if (protocol === 'pod') return awsError('ThrottlingException', 'Rate exceeded', 429);
    return awsError('ThrottlingException', 'Rate exceeded');
  }
  if (protocol === 'query') return awsError('ServiceUnavailable', 'Service is unavailable. Please try again later.', 503);
  if (protocol === 'pod') return credentialsServiceUnavailable();
  if (service === 'ssm') return awsError('InternalServerError', 'An error occurred on the server side.', 500);
  return awsError('InternalServiceError', 'An error occurred on the server side.', 500);
}

/**
 * Buffers the body up to MAX_BODY_BYTES. Past that it stops keeping bytes but still reads the rest,
 * so the caller gets an answer (413) instead of a connection reset mid-upload. `undefined` = too large.
 */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0; // drained and dropped
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** What a front end says of a body over the limit, rendered in the caller's protocol like any error. */
function bodyTooLarge(): AwsApiError {
  return awsError('RequestEntityTooLargeException', `Request body exceeds the limit of ${MAX_BODY_BYTES} bytes`, 413);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Only a region-shaped value is kept as is: the counters and the rate limiter's buckets key on the
 * region, and before the signature is checked it is whatever the caller wrote.
 */
function regionLabel(region: string): string {
  return REGION_SHAPE.test(region) ? region : INVALID_REGION;
}

/** The region of the credential scope, for counting calls that fail authentication. */
function scopeRegion(req: IncomingMessage): string | undefined {
  const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(headerValue(req, 'authorization') ?? '')?.[1];
  return region === undefined ? undefined : regionLabel(region);
}

/**
 * The name a call is counted under: the operation it names if the service has it (emulated, or an
 * AWS operation the SDK knows), else `unknown`. The set is fixed, so caller-made names cannot grow
 * the counters.
 */
async function countedAction(service: EmulatedService | undefined, action: string, emulated: readonly string[]): Promise<string> {
  if (service === undefined) return UNKNOWN_ACTION;
  if (emulated.includes(action) || (await existsInAws(service, action))) return action;
  return UNKNOWN_ACTION;
}

function render(protocol: Protocol, requestId: string, outcome: { ok: true; body: unknown } | { ok: false; error: AwsApiError }): Reply {
  if (protocol === 'json') {
    const contentType = 'application/x-amz-json-1.1';
    if (outcome.ok) return { status: 200, contentType, body: JSON.stringify(outcome.body), requestId };
    return { status: outcome.error.status, contentType, body: JSON.stringify({ __type: outcome.error.code, message: outcome.error.message }), requestId };
  }
  if (protocol === 'query') {
    if (outcome.ok) {
      const { action, result } = outcome.body as { action: string; result: Record<string, unknown> };
      return { status: 200, contentType: 'text/xml', body: queryResponse(action, result, requestId), requestId };
    }
    return { status: outcome.error.status, contentType: 'text/xml', body: queryErrorResponse(outcome.error, requestId), requestId };
  }
  if (outcome.ok) return { status: 200, contentType: 'application/json', body: JSON.stringify(outcome.body), requestId };
  return { status: outcome.error.status, contentType: 'application/json', body: JSON.stringify({ code: outcome.error.code, message: outcome.error.message }), requestId };
}

export function createRouter(deps: RouterDeps): (req: IncomingMessage, res: ServerResponse) => void {
  /**
   * Runs one call through the shared pipeline; `authenticate` may refine the region and identity, and
   * so may `handle` through `verified` (a web-identity token is only checked by its handler).
   * A call is counted as `anonymous` until one of them has verified who made it: an unverified
   * token's subject is caller-chosen, so counting under it would let any caller grow the counters.
   */
  async function pipeline(call: {
    protocol: Protocol;
    service: string;
    action: string;
    /** What the counters record for `action` (see countedAction). */
    countedAction: string;
    region: string;
    authenticate: () => Promise<{ principal: Principal; region: string } | undefined>;
    handle: (principal: Principal | undefined, region: string, verified: (subject: string) => void) => Promise<unknown>;
  }): Promise<Reply> {
    const requestId = randomUUID();
    let { region } = call;
    let identity = ANONYMOUS;
    const count = (outcome: CallOutcome): void => {
      deps.counters.record({ action: call.countedAction, identity, region: regionLabel(region), outcome });
    };
    let reply: Reply;
    try {
      const caller = await call.authenticate();
      if (caller !== undefined) {
        region = caller.region;
        identity = identityOf(caller.principal);
      }
      const fault = deps.faults.take(call.action, region);
      if (fault !== undefined) throw injectedError(fault, call.protocol, call.service);
      if (!deps.rateLimiter.tryTake(call.action, region)) throw injectedError('throttle', call.protocol, call.service);
      const body = await call.handle(caller?.principal, region, (subject) => {
        identity = subject;
      });
      count('ok');
      reply = render(call.protocol, requestId, { ok: true, body });
    } catch (err) {
      // Unexpected failures get a generic message: an exception text could quote a request body.
      const error = err instanceof AwsApiError ? err : awsError('InternalFailure', 'The emulator failed to process the request.', 500);
      count(outcomeOf(error));
      reply = render(call.protocol, requestId, { ok: false, error });
    }
    const latency = deps.latencyMs();
    if (latency > 0) await deps.delay(latency);
    return reply;
  }

  async function route(req: IncomingMessage): Promise<Reply> {
    const url = req.url ?? '/';
    const path = url.split('?')[0];
    if (req.method === 'GET' && path === POD_IDENTITY_PATH) {
      const token = headerValue(req, 'authorization');
      return pipeline({
        protocol: 'pod',
        service: 'eks-auth',
        action: 'PodIdentityGetCredentials',
        countedAction: 'PodIdentityGetCredentials',
        region: 'global',
        authenticate: async () => undefined,
        handle: (_principal, _region, verified) => podIdentityCredentials(deps.podIdentity, token, verified),
      });
    }
    const received = await readBody(req);
    const body = received ?? Buffer.alloc(0);
    const target = headerValue(req, 'x-amz-target');
    if (req.method === 'POST' && target !== undefined) {
      const [prefix = '', action = ''] = target.split('.');
      // Own keys only: a prefix like `constructor` must not find Object.prototype's members.
      const json = Object.hasOwn(JSON_SERVICES, prefix) ? JSON_SERVICES[prefix] : undefined;
      const handlers = json?.service === 'ssm' ? deps.ssm : deps.secretsManager;
      return pipeline({
        protocol: 'json',
        service: json?.service ?? 'unknown',
        action,
        countedAction: await countedAction(json?.service, action, Object.keys(handlers)),
        region: scopeRegion(req) ?? 'unknown',
        authenticate: async () => {
          if (received === undefined) throw bodyTooLarge();
          if (json === undefined) throw awsError('UnknownOperationException', `Unknown service target ${prefix}`);
          const request = { method: 'POST', url, headers: req.headers, body };
          return verifySigV4(request, { service: json.service, credentials: deps.credentials, now: deps.now });
        },
        handle: async (principal, region) => {
          const handler = Object.hasOwn(handlers, action) ? handlers[action] : undefined;
          if (handler === undefined || principal === undefined || json === undefined) {
            const service = json?.service === 'ssm' ? 'ssm' : 'secretsmanager';
            throw await notEmulated(service, action, Object.keys(handlers), { code: 'UnknownOperationException', unknown: `Unknown operation ${action}` });
          }
          return handler({ principal, region, input: new JsonInput(parseJsonBody(body), json.invalidCode) });
        },
      });
    }
    if (req.method === 'POST' && (headerValue(req, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
      const params = new URLSearchParams(body.toString('utf8'));
      const action = params.get('Action') ?? '';
      const anonymous = action === 'AssumeRoleWithWebIdentity';
      return pipeline({
        protocol: 'query',
        service: 'sts',
        action,
        countedAction: await countedAction('sts', action, STS_ACTIONS),
        region: scopeRegion(req) ?? STS_DEFAULT_REGION,
        authenticate: async () => {
          if (received === undefined) throw bodyTooLarge();
          if (anonymous) return undefined;
          return verifySigV4({ method: 'POST', url, headers: req.headers, body }, { service: 'sts', credentials: deps.credentials, now: deps.now }).catch((e: unknown) => {
            throw asStsAuthError(e);
          });
        },
        handle: async (principal, _region, verified) => {
          if (action === 'AssumeRoleWithWebIdentity') return { action, result: await assumeRoleWithWebIdentity(deps.sts, params, verified) };
          if (action === 'GetCallerIdentity' && principal !== undefined) {
            return { action, result: getCallerIdentity(principal, deps.sts.accountId) };
          }
          throw await notEmulated('sts', action, STS_ACTIONS, {
            code: 'InvalidAction',
            unknown: `Could not find operation ${action} for version 2011-06-15`,
          });
        },
      });
    }
    return { status: 404, contentType: 'application/json', body: JSON.stringify({ message: 'Not Found' }), requestId: randomUUID() };
  }

  // The SDK corrects its clock skew from this header, on errors too (a "Signature expired" answer
  // makes it re-sign with the corrected clock on the next attempt), as it does against AWS.
  const dateHeader = (): string => new Date(deps.now()).toUTCString();

  return (req, res) => {
    route(req).then(
      (reply) => {
        res.writeHead(reply.status, {
          'content-type': reply.contentType,
          'content-length': Buffer.byteLength(reply.body),
          'x-amzn-requestid': reply.requestId,
          date: dateHeader(),
        });
        res.end(reply.body);
      },
      () => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), date: dateHeader() });
        res.end(JSON.stringify({ message: 'The request could not be read.' }));
      },
    );
  };
}
