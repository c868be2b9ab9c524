/**
 * The composition root of the AWS emulator: builds the stores, IAM, credential registry and
 * injection knobs from the options, serves them on one node:http server, and returns the handle
 * with the direct admin methods tests and demos use. Everything is per instance: two emulators in
 * one process share nothing.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallCounter } from './counters.js';
import { CredentialRegistry, DEFAULT_ADMIN_CREDENTIALS } from './credentials.js';
import { FaultPlan } from './faults.js';
import { IssuerRegistry } from './jwt-verify.js';
import { ParameterStore } from './parameter-store.js';
import { POD_IDENTITY_PATH } from './pod-identity.js';
import { PolicyRegistry } from './policy.js';
import { RateLimiter } from './rate-limit.js';
import { createRouter } from './router.js';
import { SecretStore } from './secret-store.js';
import { secretsManagerHandlers } from './secrets-manager.js';
import { ssmHandlers } from './ssm.js';
import type { AwsEmulator, AwsEmulatorOptions } from './types.js';

export const DEFAULT_ACCOUNT_ID = '111122223333';
const DEFAULT_CREDENTIAL_TTL_SECONDS = 3600;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number of milliseconds`);
  return value;
}

export async function startAwsEmulator(options: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const now = options.now ?? Date.now;
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  const adminCredentials = { ...(options.adminCredentials ?? DEFAULT_ADMIN_CREDENTIALS) };
  const credentialTtlSeconds = options.credentialTtlSeconds ?? DEFAULT_CREDENTIAL_TTL_SECONDS;
  if (!(credentialTtlSeconds > 0)) throw new RangeError('options.credentialTtlSeconds must be positive');
  let latencyMs = nonNegative('options.latencyMs', options.latencyMs ?? 0);

  const secrets = new SecretStore({ accountId, now });
  const parameters = new ParameterStore({ accountId, now });
  const policy = new PolicyRegistry();
  const issuers = new IssuerRegistry({ now });
  const credentials = new CredentialRegistry({ now, admin: adminCredentials });
  const counters = new CallCounter();
  const faults = new FaultPlan();
  const rateLimiter = new RateLimiter({ now, ...(options.rateLimits === undefined ? {} : { limits: options.rateLimits }) });
  const identityDeps = { issuers, policy, credentials, accountId, credentialTtlSeconds };

  const server = createServer(
    createRouter({
      secretsManager: secretsManagerHandlers({ store: secrets, policy, faults }),
      ssm: ssmHandlers({ store: parameters, policy }),
      sts: identityDeps,
      podIdentity: identityDeps,
      credentials,
      counters,
      faults,
      rateLimiter,
      now,
      latencyMs: () => latencyMs,
      delay: options.delay ?? sleep,
    }),
  );
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    podIdentityUrl: `${url}${POD_IDENTITY_PATH}`,
    accountId,
    adminCredentials: { ...adminCredentials },
    counters,
    faults,
    trustIssuer: (issuer) => issuers.trust(issuer),
    addRole: (role) => policy.addRole(role),
    mergeRole: (role) => policy.mergeRole(role),
    addPodIdentityAssociation: (association) => policy.addPodIdentityAssociation(association),
    putSecret({ name, region, string, binary, description, versionId, stages }) {
      if ((string === undefined) === (binary === undefined)) {
        throw new TypeError(`putSecret(${name}) needs exactly one of string or binary`);
      }
      const existing = secrets.resolve(region, name);
      const record = existing ?? secrets.create({ region, name, ...(description === undefined ? {} : { description }) });
      if (existing !== undefined && description !== undefined) existing.description = description;
      const version = secrets.putValue(record, {
        value: string === undefined ? { binary } : { string },
        ...(versionId === undefined ? {} : { versionId }),
        ...(stages === undefined ? {} : { stages }),
      });
      return { arn: record.arn, versionId: version.versionId };
    },
    putParameter({ name, region, value, type }) {
      const { version } = parameters.put({ region, name, value, type: type ?? 'String', overwrite: true });
      return { version: version.version };
    },
    labelParameter({ name, region, version, labels }) {
      const result = parameters.label({ region, name, version, labels });
      if (result.invalid.length > 0) throw new TypeError(`labelParameter(${name}): invalid labels ${result.invalid.join(', ')}`);
    },
    setLatency(ms) {
      latencyMs = nonNegative('latency', ms);
    },
    setRateLimit(action, perSecond) {
      rateLimiter.set(action, perSecond);
    },
    stop() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        // SDK clients keep connections alive; close them so stop() does not wait for their timeout.
        server.closeAllConnections();
      });
    },
  };
}
