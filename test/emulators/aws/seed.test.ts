/**
 * Seeding a whole demo world from a YAML file and from a plain object, then reading it back through
 * the real SDK clients; an issuer trusted by JWKS URL; seed errors that name the field.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchGetSecretValueCommand, DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretletError } from '../../../src/core/errors.js';
import { loadSeed, startAwsEmulator, type AwsEmulator, type AwsSeed } from '../../../src/emulators/aws/index.js';
import { createTestIssuer, smClient, ssmClient, stsClient } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(): Promise<AwsEmulator> {
  const emu = await startAwsEmulator();
  cleanups.push(() => emu.stop());
  return emu;
}

describe('loadSeed', () => {
  it('loads secrets with versions, parameters with labels, roles and issuers from a YAML file', async () => {
    const emu = await start();
    const issuer = createTestIssuer();
    const dir = await mkdtemp(join(tmpdir(), 'aws-seed-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const seed: AwsSeed = {
      region: 'us-west-2',
      trustedIssuers: [{ issuer: issuer.issuer, jwks: issuer.jwks }],
      roles: [{ roleArn: 'arn:aws:iam::111122223333:role/app', trust: [{ namespace: 'app', serviceAccount: 'api' }], allow: { secrets: ['*'] } }],
      podIdentityAssociations: [{ namespace: 'app', serviceAccount: 'api', roleArn: 'arn:aws:iam::111122223333:role/app' }],
      secrets: [
        { name: 'db', versions: [{ string: 'old', versionId: 'v1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }, { string: 'new' }] },
        { name: 'blob', region: 'us-east-2', binaryBase64: Buffer.from([1, 2, 3]).toString('base64') },
      ],
      parameters: [
        { name: '/cfg/mode', value: 'blue', labels: ['prod'] },
        { name: '/cfg/mode', value: 'green' },
        { name: '/cfg/token', value: 's3cret', type: 'SecureString' },
      ],
    };
    const file = join(dir, 'seed.yaml');
    await writeFile(file, stringify(seed));
    await loadSeed(emu, file);

    const sm = smClient(emu, 'us-west-2');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'db' }))).SecretString).toBe('new');
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: 'db', VersionStage: 'AWSPREVIOUS' }));
    expect(previous).toMatchObject({ SecretString: 'old', VersionId: 'v1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' });
    const blob = await smClient(emu, 'us-east-2').send(new GetSecretValueCommand({ SecretId: 'blob' }));
    expect([...blob.SecretBinary!]).toEqual([1, 2, 3]);

    const params = await ssmClient(emu, 'us-west-2').send(
      new GetParametersCommand({ Names: ['/cfg/mode:prod', '/cfg/mode', '/cfg/token'], WithDecryption: true }),
    );
    expect(params.Parameters!.map((p) => [p.Value, p.Version])).toEqual([['blue', 1], ['green', 2], ['s3cret', 1]]);

    const token = issuer.mint({ namespace: 'app', serviceAccount: 'api', audience: 'sts.amazonaws.com' });
    const assumed = await stsClient(emu).send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::111122223333:role/app', RoleSessionName: 'seeded', WebIdentityToken: token }),
    );
    const c = assumed.Credentials!;
    const asRole = smClient(emu, 'us-west-2', { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! });
    expect((await asRole.send(new DescribeSecretCommand({ SecretId: 'db' }))).Name).toBe('db');
  });

  it("keeps a seeded secret's description for DescribeSecret and the description and all filters", async () => {
    const emu = await start();
    await loadSeed(emu, {
      secrets: [
        { name: 'shop/db', description: 'Primary database login', string: 'pw' },
        { name: 'shop/cache', string: 'c' },
      ],
    });
    const sm = smClient(emu);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'shop/db' }))).Description).toBe('Primary database login');
    const filtered = async (Key: 'description' | 'all', value: string) =>
      ((await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key, Values: [value] }] }))).SecretValues ?? []).map((v) => v.Name);
    expect(await filtered('description', 'primary data')).toEqual(['shop/db']);
    expect(await filtered('all', 'LOGIN')).toEqual(['shop/db']);
  });

  it('trusts an issuer by JWKS URL and refuses a seed that lacks a value', async () => {
    const emu = await start();
    const issuer = createTestIssuer();
    const jwksServer: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(issuer.jwks));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => jwksServer.close(() => resolve())));
    const { port } = jwksServer.address() as AddressInfo;

    await loadSeed(emu, {
      trustedIssuers: [{ issuer: issuer.issuer, jwksUri: `http://127.0.0.1:${port}/openid/v1/jwks` }],
      roles: [{ roleArn: 'arn:aws:iam::111122223333:role/r', trust: [{ namespace: 'n', serviceAccount: 's' }], allow: {} }],
    });
    const token = issuer.mint({ namespace: 'n', serviceAccount: 's', audience: 'sts.amazonaws.com' });
    const out = await stsClient(emu).send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::111122223333:role/r', RoleSessionName: 'uri', WebIdentityToken: token }),
    );
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);

    const bad = loadSeed(emu, { secrets: [{ name: 'empty' }] });
    await expect(bad).rejects.toBeInstanceOf(SecretletError);
    await expect(bad).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'seed.secrets[0]' });
  });
});
