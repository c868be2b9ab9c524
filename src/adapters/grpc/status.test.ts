import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { SecretletError, invalidArgument } from '../../core/errors.js';
import type { StatusCode } from '../../core/errors.js';
import { toGrpcStatus } from './status.js';

describe('toGrpcStatus', () => {
  it('maps every SecretletError code name to the gRPC status of the same name', () => {
    const names: StatusCode[] = [
      'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
      'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
      'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
    ];
    for (const name of names) {
      const status = toGrpcStatus(new SecretletError({ code: name, reason: 'R', message: `m-${name}` }));
      expect(status).toEqual({ code: grpc.status[name], details: `m-${name}` });
    }
  });

  it('keeps the message of a bad-input error', () => {
    expect(toGrpcStatus(invalidArgument('MissingField', 'objects[1].objectName is missing', 'objects[1].objectName'))).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'objects[1].objectName is missing',
    });
  });

  it('tells gRPC clients not to retry an AWS failure the agent already retried, and only that kind', () => {
    const pushback = (reason: string) => toGrpcStatus(new SecretletError({ code: 'UNAVAILABLE', reason, message: 'm' })).metadata?.get('grpc-retry-pushback-ms');
    expect(pushback('Throttled')).toEqual(['-1']);
    expect(pushback('AwsUnavailable')).toEqual(['-1']);
    expect(pushback('AwsUnreachable')).toEqual(['-1']);
    expect(pushback('InvalidStsResponse')).toEqual(['-1']);
    expect(pushback('InvalidAgentResponse')).toEqual(['-1']);
    // Credentials evicted between mount and signing: a retry fetches new ones at once.
    expect(pushback('CredentialsEvicted')).toBeUndefined();
    // The agent shutting down: the client's retry reaches the next agent, so it stays allowed.
    expect(pushback('Draining')).toBeUndefined();
    expect(toGrpcStatus(new SecretletError({ code: 'PERMISSION_DENIED', reason: 'Throttled', message: 'm' })).metadata).toBeUndefined();
  });

  it('turns a plain Error into UNKNOWN with its message', () => {
    expect(toGrpcStatus(new TypeError('boom'))).toEqual({ code: grpc.status.UNKNOWN, details: 'boom' });
  });

  it('turns a thrown non-Error into UNKNOWN with its string form', () => {
    expect(toGrpcStatus('plain string')).toEqual({ code: grpc.status.UNKNOWN, details: 'plain string' });
    expect(toGrpcStatus(undefined)).toEqual({ code: grpc.status.UNKNOWN, details: 'undefined' });
  });

  it('does not trust a code name that is not a gRPC status', () => {
    const forged = new SecretletError({ code: 'NOT_A_CODE' as StatusCode, reason: 'R', message: 'forged' });
    expect(toGrpcStatus(forged)).toEqual({ code: grpc.status.UNKNOWN, details: 'forged' });
  });
});
