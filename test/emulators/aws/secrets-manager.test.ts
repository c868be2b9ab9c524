/**
 * Secrets Manager through the real SDK client: create/put/read by name, full ARN, partial ARN,
 * version id and stage; staging label moves; DescribeSecret; deletion; regions kept apart.
 */
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { errorName, smClient } from './helpers.js';

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
});
afterAll(async () => {
  await emu.stop();
});

describe('Secrets Manager', () => {
  it('creates a secret and reads it by name, full ARN and partial ARN', async () => {
    const sm = smClient(emu);
    const created = await sm.send(new CreateSecretCommand({ Name: 'app/db', SecretString: '{"user":"u1"}' }));
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:111122223333:secret:app\/db-[A-Za-z0-9]{6}$/);
    const partial = created.ARN!.slice(0, -7);
    for (const id of ['app/db', created.ARN!, partial]) {
      const got = await sm.send(new GetSecretValueCommand({ SecretId: id }));
      expect(got).toMatchObject({ Name: 'app/db', ARN: created.ARN, SecretString: '{"user":"u1"}', VersionId: created.VersionId });
      expect(got.VersionStages).toEqual(['AWSCURRENT']);
      expect(got.CreatedDate).toBeInstanceOf(Date);
    }
  });

  it('moves AWSCURRENT on PutSecretValue and leaves AWSPREVIOUS behind', async () => {
    const sm = smClient(emu);
    const v1 = await sm.send(new CreateSecretCommand({ Name: 'rotating', SecretString: 'one' }));
    const v2 = await sm.send(new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'two' }));
    const v3 = await sm.send(new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'three' }));
    expect(v3.VersionStages).toEqual(['AWSCURRENT']);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'rotating' }));
    expect(described.VersionIdsToStages).toEqual({ [v2.VersionId!]: ['AWSPREVIOUS'], [v3.VersionId!]: ['AWSCURRENT'] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'rotating' }))).SecretString).toBe('three');
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: 'rotating', VersionStage: 'AWSPREVIOUS' }));
    expect(previous.SecretString).toBe('two');
    // A version without labels is deprecated but still readable by id.
    const first = await sm.send(new GetSecretValueCommand({ SecretId: 'rotating', VersionId: v1.VersionId }));
    expect(first).toMatchObject({ SecretString: 'one', VersionStages: [] });
    expect(await errorName(sm.send(new GetSecretValueCommand({ SecretId: 'rotating', VersionStage: 'AWSPENDING' })))).toBe(
      'ResourceNotFoundException',
    );
  });

  it('stages a pending version and promotes it with UpdateSecretVersionStage', async () => {
    const sm = smClient(emu);
    const v1 = await sm.send(new CreateSecretCommand({ Name: 'staged', SecretString: 'old' }));
    const pending = await sm.send(
      new PutSecretValueCommand({ SecretId: 'staged', SecretString: 'new', VersionStages: ['AWSPENDING'], ClientRequestToken: 'b'.repeat(36) }),
    );
    expect(pending.VersionId).toBe('b'.repeat(36));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'staged' }))).SecretString).toBe('old');
    expect(
      await errorName(sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'staged', VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId }))),
    ).toBe('InvalidParameterException');
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'staged',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: pending.VersionId,
        RemoveFromVersionId: v1.VersionId,
      }),
    );
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'staged' }));
    expect(described.VersionIdsToStages).toEqual({ [v1.VersionId!]: ['AWSPREVIOUS'], [pending.VersionId!]: ['AWSPENDING', 'AWSCURRENT'] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'staged' }))).SecretString).toBe('new');
  });

  it('returns binary secrets as bytes', async () => {
    const sm = smClient(emu);
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    await sm.send(new CreateSecretCommand({ Name: 'bin', SecretBinary: bytes }));
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'bin' }));
    expect(got.SecretString).toBeUndefined();
    expect([...got.SecretBinary!]).toEqual([...bytes]);
  });

  it('answers ResourceNotFound, ResourceExists and deleted secrets like AWS', async () => {
    const sm = smClient(emu);
    expect(await errorName(sm.send(new GetSecretValueCommand({ SecretId: 'nope' })))).toBe('ResourceNotFoundException');
    await sm.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'x' }));
    expect(await errorName(sm.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'x' })))).toBe('ResourceExistsException');

    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: 'dup', RecoveryWindowInDays: 7 }));
    expect(deleted.DeletionDate).toBeInstanceOf(Date);
    expect(await errorName(sm.send(new GetSecretValueCommand({ SecretId: 'dup' })))).toBe('InvalidRequestException');
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'dup' }))).DeletedDate).toBeInstanceOf(Date);

    await sm.send(new CreateSecretCommand({ Name: 'gone', SecretString: 'x' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'gone', ForceDeleteWithoutRecovery: true }));
    expect(await errorName(sm.send(new GetSecretValueCommand({ SecretId: 'gone' })))).toBe('ResourceNotFoundException');
  });

  it('keeps regions apart and refuses an ARN of another region', async () => {
    const east1 = smClient(emu, 'us-east-1');
    const east2 = smClient(emu, 'us-east-2');
    const a = await east1.send(new CreateSecretCommand({ Name: 'regional', SecretString: 'in-1' }));
    await east2.send(new CreateSecretCommand({ Name: 'regional', SecretString: 'in-2' }));
    expect((await east2.send(new GetSecretValueCommand({ SecretId: 'regional' }))).SecretString).toBe('in-2');
    expect(await errorName(east2.send(new GetSecretValueCommand({ SecretId: a.ARN })))).toBe('ResourceNotFoundException');
  });

  it('rejects a batch with both ids and filters, or more than 20 ids', async () => {
    const sm = smClient(emu);
    const ids = Array.from({ length: 21 }, (_, i) => `s${i}`);
    expect(await errorName(sm.send(new BatchGetSecretValueCommand({ SecretIdList: ids })))).toBe('InvalidParameterException');
    expect(
      await errorName(sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['a'], Filters: [{ Key: 'name', Values: ['a'] }] }))),
    ).toBe('InvalidParameterException');
  });

  it('filters as the Filter reference says: name case-sensitive, description in any case, all by words', async () => {
    const sm = smClient(emu, 'ap-south-1');
    await sm.send(new CreateSecretCommand({ Name: 'shop/db-password', Description: 'Primary database password', SecretString: 'a' }));
    await sm.send(new CreateSecretCommand({ Name: 'shop/apiKey', Description: 'Partner API key', SecretString: 'b' }));
    await sm.send(new CreateSecretCommand({ Name: 'Shop/legacy9', SecretString: 'c' }));
    const names = async (Key: 'name' | 'description' | 'all', Values: string[]) =>
      ((await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key, Values }] }))).SecretValues ?? []).map((v) => v.Name).sort();
    expect(await names('name', ['shop/'])).toEqual(['shop/apiKey', 'shop/db-password']);
    expect(await names('description', ['PRIMARY data'])).toEqual(['shop/db-password']);
    expect(await names('description', ['password'])).toEqual([]); // a prefix, not a word search
    expect(await names('all', ['DB'])).toEqual(['shop/db-password']);
    expect(await names('all', ['key'])).toEqual(['shop/apiKey']); // apiKey is the words api and Key
    expect(await names('all', ['shop'])).toEqual(['Shop/legacy9', 'shop/apiKey', 'shop/db-password']);
    expect(await names('all', ['LEGACY_9'])).toEqual(['Shop/legacy9']);
    expect(await names('name', ['!shop/'])).toEqual(['Shop/legacy9']);
  });

  it('rejects filter values the API model does not allow', async () => {
    const sm = smClient(emu);
    const batch = (Values: string[]) => errorName(sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values }] })));
    expect(await batch([])).toBe('ValidationException');
    expect(await batch(Array.from({ length: 11 }, (_, i) => `v${i}`))).toBe('ValidationException');
    expect(await batch(['a#b'])).toBe('ValidationException');
    expect(await batch(['x'.repeat(513)])).toBe('ValidationException');
  });

  it('pages a filtered batch', async () => {
    const sm = smClient(emu, 'eu-west-1');
    for (let i = 0; i < 5; i++) await sm.send(new CreateSecretCommand({ Name: `paged/${i}`, SecretString: `v${i}` }));
    await sm.send(new CreateSecretCommand({ Name: 'other', SecretString: 'o' }));
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await sm.send(
        new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['paged/'] }], MaxResults: 2, NextToken: token }),
      );
      seen.push(...page.SecretValues!.map((v) => v.SecretString!));
      token = page.NextToken;
    } while (token !== undefined);
    expect(seen).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });
});
