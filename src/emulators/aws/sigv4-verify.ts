/**
 * Server-side SigV4: recomputes the signature of a received request with the secret of the access
 * key it names (through @smithy/signature-v4, the SDK's own signer, over exactly the headers the
 * client signed) and compares. This makes the emulator refuse what AWS refuses: unknown keys, wrong
 * secrets, expired sessions, stale timestamps, and credentials scoped to another service.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { awsError, type AwsApiError } from './aws-error.js';
import type { CredentialRegistry, Principal } from './credentials.js';

export interface SignedRequest {
  method: string;
  /** Path and query as received, e.g. `/` or `/?a=b`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface VerifiedCaller {
  principal: Principal;
  region: string;
  service: string;
}

const AUTH_PATTERN = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;
const MINUTE_MS = 60_000;
/**
 * How far a request's X-Amz-Date may be from the service clock. Secrets Manager and SSM allow 5
 * minutes ("Signature expired: … (… - 5 min.)", e.g. boto/botocore#3587, aws/aws-sdk-net#1506);
 * STS allows 15 (aws/aws-cli#6676, GetCallerIdentity). Unlisted services get the stricter window.
 */
const SIGNATURE_WINDOW_MINUTES: Readonly<Record<string, number>> = { secretsmanager: 5, ssm: 5, sts: 15 };
const DEFAULT_WINDOW_MINUTES = 5;

/**
 * A received header's value. `name` may come from the caller's SignedHeaders, and Node's headers
 * object inherits from Object.prototype, so only own string (or repeated-header array) values
 * count: `SignedHeaders=constructor` names a header the request does not have.
 */
function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  if (!Object.hasOwn(headers, name)) return undefined;
  const value: unknown = headers[name];
  if (typeof value === 'string') return value;
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value.join(',') : undefined;
}

function signatureMismatch(): AwsApiError {
  return awsError(
    'InvalidSignatureException',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  );
}

/** epoch ms → `20240102T030405Z`, the form AWS quotes times in signature errors. */
function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The error AWS gives for a request signed too long before, or after, its own clock. */
function signatureOutOfWindow(amzDate: string, signedAt: number, now: number, minutes: number): AwsApiError | undefined {
  const windowMs = minutes * MINUTE_MS;
  if (signedAt < now - windowMs) {
    return awsError('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - windowMs)} (${formatAmzDate(now)} - ${minutes} min.)`);
  }
  if (signedAt > now + windowMs) {
    return awsError('InvalidSignatureException', `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + windowMs)} (${formatAmzDate(now)} + ${minutes} min.)`);
  }
  return undefined;
}

/** `20240102T030405Z` → epoch ms, or NaN. */
function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m === null) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function expiredToken(): AwsApiError {
  return awsError('ExpiredTokenException', 'The security token included in the request is expired');
}

/** Checks the request was signed for `service` with credentials the registry knows. */
export async function verifySigV4(
  request: SignedRequest,
  options: { service: string; credentials: CredentialRegistry; now: () => number },
): Promise<VerifiedCaller> {
  const authorization = header(request.headers, 'authorization');
  if (authorization === undefined) {
    throw awsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const m = AUTH_PATTERN.exec(authorization.trim());
  if (m === null) throw awsError('IncompleteSignatureException', 'Authorization header requires a valid SigV4 Credential, SignedHeaders and Signature.');
  const [, accessKeyId = '', scopeDate = '', region = '', service = '', signedHeaderList = '', signature = ''] = m;

  const credential = options.credentials.lookup(accessKeyId);
  if (credential === undefined) {
    // A session the registry has pruned is still an expired one, as AWS tells it apart from a forged key.
    if (options.credentials.prunedExpiry(accessKeyId) !== undefined && header(request.headers, 'x-amz-security-token') !== undefined) {
      throw expiredToken();
    }
    throw awsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (credential.sessionToken !== undefined && header(request.headers, 'x-amz-security-token') !== credential.sessionToken) {
    throw awsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (credential.expiresAt !== undefined && credential.expiresAt <= options.now()) throw expiredToken();
  if (service !== options.service) {
    throw awsError('InvalidSignatureException', `Credential should be scoped to correct service: '${options.service}'.`);
  }
  const amzDate = header(request.headers, 'x-amz-date') ?? '';
  const signedAt = parseAmzDate(amzDate);
  if (Number.isNaN(signedAt) || !amzDate.startsWith(scopeDate)) {
    throw awsError('IncompleteSignatureException', 'The request must contain a valid X-Amz-Date matching the credential scope date.');
  }
  const outOfWindow = signatureOutOfWindow(amzDate, signedAt, options.now(), SIGNATURE_WINDOW_MINUTES[options.service] ?? DEFAULT_WINDOW_MINUTES);
  if (outOfWindow !== undefined) throw outOfWindow;

  const expected = await computeSignature(request, { signedHeaderList, region, service, signedAt, credential });
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(signature, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw signatureMismatch();
  return { principal: credential.principal, region, service };
}

function parsedUrl(target: string): URL | undefined {
  try {
    return new URL(target, 'http://emulator.invalid');
  } catch {
    return undefined;
  }
}

async function computeSignature(
  request: SignedRequest,
  ctx: {
    signedHeaderList: string;
    region: string;
    service: string;
    signedAt: number;
    credential: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  },
): Promise<string> {
  const signedNames = ctx.signedHeaderList.split(';');
  // Without a prototype, caller-chosen names (`__proto__`, `constructor`) are plain keys here.
  const headers = Object.create(null) as Record<string, string>;
  for (const name of signedNames) {
    const value = header(request.headers, name);
    if (value !== undefined) headers[name] = value;
  }
  const url = parsedUrl(request.url);
  // A target no URL parser accepts (`//[`) has no canonical form, so no signature can match it: AWS
  // refuses what it cannot canonicalize as a signature mismatch (4xx), never as its own failure.
  if (url === undefined) throw signatureMismatch();
  const query = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of url.searchParams) {
    const prior = query[k];
    query[k] = prior === undefined ? v : [...(Array.isArray(prior) ? prior : [prior]), v];
  }
  const signer = new SignatureV4({
    credentials: ctx.credential,
    region: ctx.region,
    service: ctx.service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const toSign = new HttpRequest({
    method: request.method,
    protocol: 'http:',
    hostname: headers.host ?? 'localhost',
    path: url.pathname,
    query,
    headers,
    body: request.body,
  });
  const signed = await signer.sign(toSign, {
    signingDate: new Date(ctx.signedAt),
    signableHeaders: new Set(signedNames),
  });
  const produced = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? signed.headers.Authorization ?? ''));
  return produced?.[1] ?? '';
}
