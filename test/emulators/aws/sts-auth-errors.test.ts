/**
 * How STS refuses a GetCallerIdentity that is not signed, or whose Authorization header is not
 * SigV4: in STS's own awsQuery words (403 MissingAuthenticationToken "Request is missing
 * Authentication Token", 400 IncompleteSignature), not the JSON services' `…Exception` codes.
 * Seen through the real SDK client, with its signed request altered just before it is sent.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { HttpRequest } from '@smithy/protocol-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { refusal, stsClient } from './helpers.js';

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
});
afterAll(async () => {
  await emu.stop();
});

interface RequestRewritable {
  middlewareStack: { add(middleware: unknown, options: { step: 'deserialize'; priority: 'low' }): void };
}

/** An STS client whose signed request gets `authorization` replaced (or removed) on its way out. */
function clientSending(authorization: string | undefined) {
  const client = stsClient(emu);
  // The deserialize step wraps the transport, so it sees the request after signing.
  (client as RequestRewritable).middlewareStack.add(
    (next: (args: { request: HttpRequest }) => Promise<unknown>) => async (args: { request: HttpRequest }) => {
      delete args.request.headers.authorization;
      if (authorization !== undefined) args.request.headers.authorization = authorization;
      return next(args);
    },
    { step: 'deserialize', priority: 'low' },
  );
  return client;
}

describe('STS authentication errors', () => {
  it('answers an unsigned call with 403 MissingAuthenticationToken "Request is missing Authentication Token"', async () => {
    expect(await refusal(clientSending(undefined).send(new GetCallerIdentityCommand({})))).toEqual({
      name: 'MissingAuthenticationToken',
      status: 403,
      message: 'Request is missing Authentication Token',
    });
  });

  it('answers an Authorization header that is not SigV4 with 400 IncompleteSignature', async () => {
    expect(await refusal(clientSending('Bearer nothing-aws-knows').send(new GetCallerIdentityCommand({})))).toMatchObject({
      name: 'IncompleteSignature',
      status: 400,
    });
  });

  it('renders the unsigned refusal as an awsQuery ErrorResponse', async () => {
    const res = await fetch(emu.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    expect(res.status).toBe(403);
    const xml = await res.text();
    expect(xml).toContain('<Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code><Message>Request is missing Authentication Token</Message></Error>');
  });
});
