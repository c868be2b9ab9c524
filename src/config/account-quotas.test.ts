import { describe, expect, it } from 'vitest';
import { parseAccountQuotas } from './account-quotas.js';
import { compileAgentOptions } from './agent-options.js';

const provider = { mode: 'provider' as const };

describe('--account-quotas', () => {
  it('is empty by default: every budget derives from AWS quotas', () => {
    expect(compileAgentOptions(provider).accountQuotas).toEqual({});
  });

  it('reads Action=calls/s pairs, spaces allowed', () => {
    expect(compileAgentOptions({ ...provider, accountQuotas: 'GetParameters=3000, BatchGetSecretValue = 150' }).accountQuotas).toEqual({
      GetParameters: 3000,
      BatchGetSecretValue: 150,
    });
    expect(parseAccountQuotas('AssumeRoleWithWebIdentity=2.5')).toEqual({ AssumeRoleWithWebIdentity: 2.5 });
  });

  it('refuses an action without a budget, naming the option and the actions that have one', () => {
    expect(() => parseAccountQuotas('GetParameter=3000')).toThrow(
      'options.accountQuotas names "GetParameter", which has no budget; the actions with one are BatchGetSecretValue, GetSecretValue, GetParameters, AssumeRoleWithWebIdentity',
    );
  });

  it.each(['GetParameters', 'GetParameters=', 'GetParameters=0', 'GetParameters=-5', 'GetParameters=3k', 'GetParameters=Infinity'])(
    'refuses %j: a quota is a positive number',
    (text) => {
      try {
        parseAccountQuotas(text);
        expect.unreachable();
      } catch (e) {
        expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'accountQuotas' });
        expect((e as Error).message).toMatch(/^options\.accountQuotas gives GetParameters ".*"; a quota is a number of calls per second above 0/);
      }
    },
  );

  it('refuses an action named twice rather than pick one', () => {
    expect(() => parseAccountQuotas('GetParameters=100,GetParameters=3000')).toThrow('options.accountQuotas names GetParameters twice');
  });
});
