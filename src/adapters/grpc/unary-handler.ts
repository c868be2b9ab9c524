/**
 * Adapts an async function `(request, signal) => response` to a grpc-js unary handler: the signal
 * follows the call (see call-signal.ts) and anything thrown becomes a status through toGrpcStatus,
 * so every RPC of both doors translates errors the same way.
 */
import type { handleUnaryCall } from '@grpc/grpc-js';
import { followCall } from './call-signal.js';
import { toGrpcStatus } from './status.js';
import type { GrpcStatus } from './status.js';

export type UnaryImplementation<Req, Res> = (request: Req, signal: AbortSignal) => Promise<Res> | Res;

export function unaryHandler<Req, Res>(implementation: UnaryImplementation<Req, Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const { signal, release } = followCall(call);
    let result: Promise<Res>;
    try {
      result = Promise.resolve(implementation(call.request, signal));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (response) => {
        release();
        callback(null, response);
      },
      (err: unknown) => {
        release();
        callback(toGrpcStatus(err));
      },
    );
  };
}

/** A handler that answers a fixed status without looking at the request (Unimplemented RPCs). */
export function fixedStatusHandler(status: GrpcStatus): handleUnaryCall<unknown, unknown> {
  return (_call, callback) => callback({ code: status.code, details: status.details });
}
