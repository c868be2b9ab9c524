/**
 * Request bodies the awsJson protocol cannot decode, sent by real SDK clients whose serialized body
 * is swapped before signing: not a JSON object, or a member of the wrong JSON type, fail with
 * `SerializationException` for both services; well-typed values the service refuses keep the
 * service's own validation code.
 */
import { BatchGetSecretValueCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import type { HttpRequest } from '@smithy/protocol-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { errorName, smClient, ssmClient } from './helpers.js';

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
});
afterAll(async () => {
  await emu.stop();
});

interface BodySwappable {
  middlewareStack: { add(middleware: unknown, options: { step: 'build'; priority: 'high' }): void };
}

/** Makes the client send `body` instead of what it serialized (signed and sized as sent). */
function sendingBody<C extends BodySwappable>(client: C, body: string): C {
  client.middlewareStack.add(
    (next: (args: { request: HttpRequest }) => Promise<unknown>) => async (args: { request: HttpRequest }) => {
      args.request.body = body;
      return next(args);
    },
    { step: 'build', priority: 'high' },
  );
  return client;
}

describe('undecodable awsJson input', () => {
  it('answers SerializationException for a Secrets Manager body that is not a JSON object or has a wrongly typed member', async () => {
    for (const body of ['not json', '[]', '{"SecretId":123}']) {
      expect(await errorName(sendingBody(smClient(emu), body).send(new GetSecretValueCommand({ SecretId: 'x' })))).toBe('SerializationException');
    }
    const numericFilterValue = '{"Filters":[{"Key":"name","Values":[1]}]}';
    expect(await errorName(sendingBody(smClient(emu), numericFilterValue).send(new BatchGetSecretValueCommand({ SecretIdList: ['x'] })))).toBe(
      'SerializationException',
    );
    // Well-typed but not accepted: the service's own validation error.
    expect(await errorName(sendingBody(smClient(emu), '{"SecretId":""}').send(new GetSecretValueCommand({ SecretId: 'x' })))).toBe(
      'InvalidParameterException',
    );
  });

  it('answers SerializationException for an SSM list member sent as a string, ValidationException for an empty list', async () => {
    expect(await errorName(sendingBody(ssmClient(emu), '{"Names":"/app/p"}').send(new GetParametersCommand({ Names: ['x'] })))).toBe(
      'SerializationException',
    );
    expect(await errorName(sendingBody(ssmClient(emu), '{"Names":[]}').send(new GetParametersCommand({ Names: ['x'] })))).toBe('ValidationException');
  });
});
