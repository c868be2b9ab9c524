/**
 * PutParameter's Tier, value sizes, DataType and type changes through the real SDK client: the
 * tier is stored and reported, an advanced parameter holds 8 KB and never goes back to standard,
 * a standard one refuses more than 4 KB with AWS's text, and data types other than `text` are
 * refused as not emulated.
 */
import { GetParameterCommand, PutParameterCommand, type PutParameterCommandInput } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { refusal, ssmClient } from './helpers.js';

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
});
afterAll(async () => {
  await emu.stop();
});

const put = (input: Partial<PutParameterCommandInput> & { Name: string }) =>
  ssmClient(emu).send(new PutParameterCommand({ Value: 'v', Type: 'String', ...input }));

const STANDARD_TOO_LONG =
  'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html';

describe('SSM parameter tiers and values', () => {
  it('refuses a standard value over 4096 characters with AWS text', async () => {
    expect((await put({ Name: '/tier/std', Value: 'x'.repeat(4096) })).Tier).toBe('Standard');
    expect(await refusal(put({ Name: '/tier/std2', Value: 'x'.repeat(4097) }))).toEqual({ name: 'ValidationException', status: 400, message: STANDARD_TOO_LONG });
  });

  it('refuses an empty value and one over the model bound of 32768 as the validation layer does', async () => {
    const prefix = "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length";
    expect((await refusal(put({ Name: '/tier/empty', Value: '' }))).message).toBe(`${prefix} greater than or equal to 1`);
    expect((await refusal(put({ Name: '/tier/huge', Value: 'x'.repeat(32_769), Tier: 'Advanced' }))).message).toBe(`${prefix} less than or equal to 32768`);
  });

  it('stores an advanced parameter, holds 8 KB there, and refuses a downgrade to standard', async () => {
    expect((await put({ Name: '/tier/adv', Value: 'x'.repeat(8192), Tier: 'Advanced' })).Tier).toBe('Advanced');
    expect((await refusal(put({ Name: '/tier/adv2', Value: 'x'.repeat(8193), Tier: 'Advanced' }))).name).toBe('ValidationException');
    const value = (await ssmClient(emu).send(new GetParameterCommand({ Name: '/tier/adv' }))).Parameter!.Value;
    expect(value).toHaveLength(8192);
    expect(await refusal(put({ Name: '/tier/adv', Overwrite: true, Tier: 'Standard' }))).toEqual({
      name: 'ValidationException',
      status: 400,
      message:
        "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
    });
  });

  it('lets Intelligent-Tiering pick standard for a small value and advanced for a large one', async () => {
    expect((await put({ Name: '/tier/it-small', Tier: 'Intelligent-Tiering' })).Tier).toBe('Standard');
    expect((await put({ Name: '/tier/it-large', Value: 'x'.repeat(5000), Tier: 'Intelligent-Tiering' })).Tier).toBe('Advanced');
    // An advanced parameter stays advanced under Intelligent-Tiering, whatever the value's size.
    expect((await put({ Name: '/tier/it-large', Overwrite: true, Tier: 'Intelligent-Tiering' })).Tier).toBe('Advanced');
  });

  it('refuses a tier outside the enum', async () => {
    expect(await refusal(put({ Name: '/tier/bad', Tier: 'Premium' as never }))).toEqual({
      name: 'ValidationException',
      status: 400,
      message: "1 validation error detected: Value 'Premium' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]",
    });
  });

  it('stores text data and refuses the other data types as not emulated, and unknown ones', async () => {
    await put({ Name: '/dt/text', DataType: 'text' });
    expect((await ssmClient(emu).send(new GetParameterCommand({ Name: '/dt/text' }))).Parameter!.DataType).toBe('text');
    const ami = await refusal(put({ Name: '/dt/ami', Value: 'not-an-ami', DataType: 'aws:ec2:image' }));
    expect(ami).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(ami.message).toBe('DataType aws:ec2:image exists in AWS but is not emulated by this endpoint, which stores text parameters only.');
    expect((await refusal(put({ Name: '/dt/bogus', DataType: 'bogus' }))).message).toMatch(/^DataType bogus is not a data type of Parameter Store/);
  });

  it('lets an overwrite change the type, as the Terraform provider does against AWS', async () => {
    await put({ Name: '/type/change', Value: 'plain' });
    await put({ Name: '/type/change', Value: 'secret', Type: 'SecureString', Overwrite: true });
    const got = await ssmClient(emu).send(new GetParameterCommand({ Name: '/type/change', WithDecryption: true }));
    expect(got.Parameter).toMatchObject({ Type: 'SecureString', Value: 'secret', Version: 2 });
  });
});
