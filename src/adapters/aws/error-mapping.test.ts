import { ResourceNotFoundException, DecryptionFailure, InvalidParameterException } from '@aws-sdk/client-secrets-manager';
import { ParameterNotFound } from '@aws-sdk/client-ssm';
import { InvalidIdentityTokenException, ExpiredTokenException } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { SecretletError } from '../../core/errors.js';
import { isRetryable, mapAwsError, mapBatchErrorEntry } from './error-mapping.js';
import { awsError } from './testing/fakes.js';

const meta = { $metadata: { httpStatusCode: 400 } };
const ctx = { action: 'GetSecretValue', region: 'eu-west-1', objectId: 'app/db' };

describe('mapAwsError', () => {
  it.each([
    [new ResourceNotFoundException({ message: 'gone', ...meta }), 'NOT_FOUND', 'ObjectNotFound'],
    [new ParameterNotFound({ message: 'gone', ...meta }), 'NOT_FOUND', 'ObjectNotFound'],
    [awsError('ParameterVersionNotFound', 400), 'NOT_FOUND', 'ObjectNotFound'],
    [awsError('AccessDeniedException', 400), 'PERMISSION_DENIED', 'AccessDenied'],
    [awsError('AccessDenied', 403), 'PERMISSION_DENIED', 'AccessDenied'],
    [new DecryptionFailure({ message: 'kms', ...meta }), 'PERMISSION_DENIED', 'DecryptionFailure'],
    [awsError('KMSAccessDeniedException', 400), 'PERMISSION_DENIED', 'AccessDenied'],
    [awsError('ThrottlingException', 400), 'UNAVAILABLE', 'Throttled'],
    [awsError('Throttling', 400), 'UNAVAILABLE', 'Throttled'],
    [awsError('TooManyUpdates', 400), 'UNAVAILABLE', 'Throttled'],
    [awsError('SomethingNew', 429), 'UNAVAILABLE', 'Throttled'],
    [awsError('InternalServiceError', 500), 'UNAVAILABLE', 'AwsUnavailable'],
    [awsError('Whatever', 503), 'UNAVAILABLE', 'AwsUnavailable'],
    [new InvalidIdentityTokenException({ message: 'bad', ...meta }), 'UNAUTHENTICATED', 'InvalidIdentityToken'],
    [new ExpiredTokenException({ message: 'old', ...meta }), 'UNAUTHENTICATED', 'InvalidIdentityToken'],
    [awsError('IDPRejectedClaimException', 403), 'UNAUTHENTICATED', 'InvalidIdentityToken'],
    [new InvalidParameterException({ message: 'bad', ...meta }), 'INVALID_ARGUMENT', 'InvalidRequest'],
    [awsError('InvalidRequestException', 400), 'INVALID_ARGUMENT', 'InvalidRequest'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'UNAVAILABLE', 'AwsUnreachable'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'UNAVAILABLE', 'AwsUnreachable'],
    [Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'DEADLINE_EXCEEDED', 'AwsTimeout'],
    [Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }), 'DEADLINE_EXCEEDED', 'AwsTimeout'],
    [awsError('RequestTimeout', 400), 'DEADLINE_EXCEEDED', 'AwsTimeout'],
    [Object.assign(new Error('aborted'), { name: 'AbortError' }), 'DEADLINE_EXCEEDED', 'RequestAborted'],
  ])('maps %s', (raw, code, reason) => {
    const e = mapAwsError(raw, ctx);
    expect(e).toBeInstanceOf(SecretletError);
    expect([e.code, e.reason]).toEqual([code, reason]);
  });

  it('retries timeouts as well as unavailability, but not an aborted request or a client fault', () => {
    const retryable = (raw: unknown) => isRetryable(mapAwsError(raw, ctx));
    expect(retryable(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toBe(true);
    expect(retryable(Object.assign(new Error('t'), { code: 'ETIMEDOUT' }))).toBe(true);
    expect(retryable(awsError('RequestTimeoutException', 400))).toBe(true);
    expect(retryable(awsError('ThrottlingException', 400))).toBe(true);
    expect(retryable(Object.assign(new Error('a'), { name: 'AbortError' }))).toBe(false);
    expect(retryable(awsError('AccessDeniedException', 400))).toBe(false);
  });

  it('treats a malformed SSM name as not found', () => {
    expect(mapAwsError(awsError('ValidationException', 400), { action: 'GetParameters', region: 'r' }).code).toBe('NOT_FOUND');
  });

  it('names the action, object, region and AWS code, and cuts tokens out of AWS messages', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const e = mapAwsError(awsError('AccessDeniedException', 400, `User is not authorized, token ${jwt}`), ctx);
    expect(e.message).toContain('GetSecretValue of app/db in eu-west-1 failed with AccessDeniedException');
    expect(e.message).not.toContain(jwt);
  });

  it('keeps a SecretletError as it is', () => {
    const original = new SecretletError({ code: 'NOT_FOUND', reason: 'X', message: 'm' });
    expect(mapAwsError(original, ctx)).toBe(original);
  });

  it('maps batch Errors[] entries by their ErrorCode', () => {
    const e = mapBatchErrorEntry({ ErrorCode: 'DecryptionFailure', Message: 'kms' }, { action: 'BatchGetSecretValue', region: 'r', objectId: 's' });
    expect([e.code, e.reason]).toEqual(['PERMISSION_DENIED', 'DecryptionFailure']);
    expect(e.message).toContain('of s in r');
  });
});
