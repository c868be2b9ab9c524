/**
 * SSM Parameter Store through the real SDK client: versions, labels, `name:version` /
 * `name:label` / ARN selectors, InvalidParameters inside a 200, alphabetical order, SecureString.
 */
import {
  GetParameterCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { errorName, ssmClient } from './helpers.js';

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
  const ssm = ssmClient(emu);
  await ssm.send(new PutParameterCommand({ Name: '/app/zeta', Value: 'z1', Type: 'String' }));
  await ssm.send(new PutParameterCommand({ Name: '/app/zeta', Value: 'z2', Overwrite: true }));
  await ssm.send(new PutParameterCommand({ Name: '/app/zeta', Value: 'z3', Overwrite: true }));
  await ssm.send(new LabelParameterVersionCommand({ Name: '/app/zeta', ParameterVersion: 2, Labels: ['stable'] }));
  await ssm.send(new PutParameterCommand({ Name: 'alpha', Value: 'a1', Type: 'String' }));
  await ssm.send(new PutParameterCommand({ Name: '/app/password', Value: 'hunter2', Type: 'SecureString' }));
  await ssm.send(new PutParameterCommand({ Name: '/app/list', Value: 'a,b,c', Type: 'StringList' }));
});
afterAll(async () => {
  await emu.stop();
});

describe('SSM Parameter Store', () => {
  it('numbers versions and refuses an overwrite that was not asked for', async () => {
    const ssm = ssmClient(emu);
    const put = await ssm.send(new PutParameterCommand({ Name: '/versions/x', Value: 'v1', Type: 'String' }));
    expect(put.Version).toBe(1);
    expect(await errorName(ssm.send(new PutParameterCommand({ Name: '/versions/x', Value: 'v2', Type: 'String' })))).toBe(
      'ParameterAlreadyExists',
    );
    expect((await ssm.send(new PutParameterCommand({ Name: '/versions/x', Value: 'v2', Overwrite: true }))).Version).toBe(2);
  });

  it('resolves version, label and ARN selectors and sorts by name', async () => {
    const ssm = ssmClient(emu);
    const arn = 'arn:aws:ssm:us-east-1:111122223333:parameter/app/zeta';
    const out = await ssm.send(
      new GetParametersCommand({ Names: ['/app/zeta:1', '/app/zeta:stable', 'alpha', `${arn}`, '/app/list'], WithDecryption: true }),
    );
    expect(out.InvalidParameters).toEqual([]);
    expect(out.Parameters!.map((p) => [p.Name, p.Value, p.Version, p.Selector])).toEqual([
      ['/app/list', 'a,b,c', 1, undefined],
      ['/app/zeta', 'z1', 1, ':1'],
      ['/app/zeta', 'z2', 2, ':stable'],
      ['/app/zeta', 'z3', 3, undefined],
      ['alpha', 'a1', 1, undefined],
    ]);
    expect(out.Parameters![1]).toMatchObject({ ARN: arn, Type: 'String' });
    expect(out.Parameters![4]!.ARN).toBe('arn:aws:ssm:us-east-1:111122223333:parameter/alpha');
  });

  it('reports names that do not resolve in InvalidParameters, as sent', async () => {
    const ssm = ssmClient(emu);
    const out = await ssm.send(
      new GetParametersCommand({ Names: ['/app/zeta:9', '/missing', 'alpha', '/app/zeta:nolabel', 'arn:aws:ssm:us-east-2:111122223333:parameter/alpha'] }),
    );
    expect(out.Parameters!.map((p) => p.Name)).toEqual(['alpha']);
    expect(out.InvalidParameters).toEqual([
      '/app/zeta:9',
      '/missing',
      '/app/zeta:nolabel',
      'arn:aws:ssm:us-east-2:111122223333:parameter/alpha',
    ]);
  });

  it('hides SecureString values unless decryption is asked for', async () => {
    const ssm = ssmClient(emu);
    const hidden = await ssm.send(new GetParameterCommand({ Name: '/app/password' }));
    expect(hidden.Parameter!.Type).toBe('SecureString');
    expect(hidden.Parameter!.Value).not.toContain('hunter2');
    const shown = await ssm.send(new GetParameterCommand({ Name: '/app/password', WithDecryption: true }));
    expect(shown.Parameter!.Value).toBe('hunter2');
  });

  it('answers GetParameter errors and GetParameters validation like SSM', async () => {
    const ssm = ssmClient(emu);
    expect(await errorName(ssm.send(new GetParameterCommand({ Name: '/missing' })))).toBe('ParameterNotFound');
    expect(await errorName(ssm.send(new GetParameterCommand({ Name: '/app/zeta:7' })))).toBe('ParameterVersionNotFound');
    const names = Array.from({ length: 11 }, (_, i) => `/p${i}`);
    expect(await errorName(ssm.send(new GetParametersCommand({ Names: names })))).toBe('ValidationException');
    expect(await errorName(ssm.send(new PutParameterCommand({ Name: 'ssm-reserved', Value: 'x', Type: 'String' })))).toBe(
      'ValidationException',
    );
  });

  it('moves a label to the version it is put on and reports invalid labels', async () => {
    const ssm = ssmClient(emu);
    await ssm.send(new PutParameterCommand({ Name: '/labels/x', Value: 'l1', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: '/labels/x', Value: 'l2', Overwrite: true }));
    await ssm.send(new LabelParameterVersionCommand({ Name: '/labels/x', ParameterVersion: 1, Labels: ['live'] }));
    const moved = await ssm.send(new LabelParameterVersionCommand({ Name: '/labels/x', ParameterVersion: 2, Labels: ['live', '1bad', 'awsx'] }));
    expect(moved.InvalidLabels).toEqual(['1bad', 'awsx']);
    const live = await ssm.send(new GetParameterCommand({ Name: '/labels/x:live' }));
    expect(live.Parameter).toMatchObject({ Value: 'l2', Version: 2, Selector: ':live' });
  });

  it('keeps parameters per region', async () => {
    const other = ssmClient(emu, 'us-east-2');
    const out = await other.send(new GetParametersCommand({ Names: ['alpha'] }));
    expect(out.Parameters).toEqual([]);
    expect(out.InvalidParameters).toEqual(['alpha']);
  });
});
