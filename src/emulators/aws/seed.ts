/**
 * Seeding: one document (a plain object, or a YAML/JSON file) that sets up a whole demo world —
 * trusted issuers, roles, pod identity associations, secrets with versions, parameters with labels.
 * It goes through the emulator's public admin methods, so a seed can do nothing a test could not.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { invalidArgument } from '../../core/errors.js';
import type { AwsEmulator, AwsSeed, SeedSecret, SeedSecretVersion } from './types.js';

const DEFAULT_REGION = 'us-east-1';

function asList<T>(value: T[] | undefined, field: string): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidArgument('InvalidSeed', `seed.${field} must be a list`, `seed.${field}`);
  return value;
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw invalidArgument('InvalidSeed', `${field} must be a non-empty string`, field);
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidArgument('InvalidSeed', `${field} must be a string`, field);
  return value;
}

function valueOf(entry: SeedSecret | SeedSecretVersion, field: string): { string: string } | { binary: Uint8Array } {
  const hasString = typeof entry.string === 'string';
  const hasBinary = typeof entry.binaryBase64 === 'string';
  if (hasString === hasBinary) {
    throw invalidArgument('InvalidSeed', `${field} needs exactly one of string or binaryBase64`, field);
  }
  return hasString ? { string: entry.string as string } : { binary: new Uint8Array(Buffer.from(entry.binaryBase64 as string, 'base64')) };
}

async function readSeed(source: AwsSeed | string): Promise<AwsSeed> {
  if (typeof source !== 'string') return source;
  const text = await readFile(source, 'utf8');
  // YAML 1.2 is a superset of JSON, so one parser reads both kinds of file.
  const parsed = parse(text) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidArgument('InvalidSeed', `seed file ${source} must hold a mapping`, 'seed');
  }
  return parsed as AwsSeed;
}

/**
 * Applies a seed. Secret versions with explicit ids or stages go through the real
 * PutSecretValue rules; everything else through the same direct methods tests use.
 */
export async function loadSeed(emulator: AwsEmulator, source: AwsSeed | string): Promise<void> {
  const seed = await readSeed(source);
  const defaultRegion = seed.region ?? DEFAULT_REGION;
  for (const issuer of asList(seed.trustedIssuers, 'trustedIssuers')) await emulator.trustIssuer(issuer);
  asList(seed.roles, 'roles').forEach((role, i) => {
    requireString(role?.roleArn, `seed.roles[${i}].roleArn`);
    emulator.addRole({
      roleArn: role.roleArn,
      trust: role.trust ?? [],
      allow: role.allow ?? {},
      ...(role.maxSessionDurationSeconds === undefined ? {} : { maxSessionDurationSeconds: role.maxSessionDurationSeconds }),
    });
  });
  asList(seed.podIdentityAssociations, 'podIdentityAssociations').forEach((a, i) => {
    emulator.addPodIdentityAssociation({
      namespace: requireString(a?.namespace, `seed.podIdentityAssociations[${i}].namespace`),
      serviceAccount: requireString(a?.serviceAccount, `seed.podIdentityAssociations[${i}].serviceAccount`),
      roleArn: requireString(a?.roleArn, `seed.podIdentityAssociations[${i}].roleArn`),
    });
  });
  asList(seed.secrets, 'secrets').forEach((secret, i) => {
    const field = `seed.secrets[${i}]`;
    const name = requireString(secret?.name, `${field}.name`);
    const region = secret.region ?? defaultRegion;
    const description = optionalString(secret.description, `${field}.description`);
    const versions = secret.versions === undefined ? [secret] : asList(secret.versions, `secrets[${i}].versions`);
    versions.forEach((version, j) => {
      const value = valueOf(version, secret.versions === undefined ? field : `${field}.versions[${j}]`);
      const { versionId, stages } = version as SeedSecretVersion;
      emulator.putSecret({
        name,
        region,
        ...value,
        ...(description === undefined ? {} : { description }),
        ...(versionId === undefined ? {} : { versionId }),
        ...(stages === undefined ? {} : { stages }),
      });
    });
  });
  asList(seed.parameters, 'parameters').forEach((parameter, i) => {
    const field = `seed.parameters[${i}]`;
    const name = requireString(parameter?.name, `${field}.name`);
    const region = parameter.region ?? defaultRegion;
    const value = requireString(parameter.value, `${field}.value`);
    const { version } = emulator.putParameter({ name, region, value, ...(parameter.type === undefined ? {} : { type: parameter.type }) });
    if (parameter.labels !== undefined && parameter.labels.length > 0) {
      emulator.labelParameter({ name, region, version, labels: parameter.labels });
    }
  });
}
