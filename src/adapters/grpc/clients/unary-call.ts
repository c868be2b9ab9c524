/**
 * One promise-returning unary call on a dynamically loaded grpc-js client, with the two ways a
 * caller bounds a call: a deadline (what kubelet and the driver set) and an AbortSignal (an
 * explicit cancel). Rejects with the grpc-js ServiceError, whose `code` and `details` are the
 * server's status.
 */
import * as grpc from '@grpc/grpc-js';

export interface CallOptions {
  /** Milliseconds from now after which the call fails with DEADLINE_EXCEEDED. */
  deadlineMs?: number;
  /** Aborting it cancels the call (the server sees CANCELLED). */
  signal?: AbortSignal;
}

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;

export function callUnary<Res>(client: grpc.Client, method: string, request: object, options: CallOptions = {}): Promise<Res> {
  const fn = (client as unknown as Record<string, UnaryMethod | undefined>)[method];
  if (typeof fn !== 'function') return Promise.reject(new TypeError(`the client has no method ${method}`));
  const callOptions: grpc.CallOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  return new Promise<Res>((resolve, reject) => {
    const onAbort = (): void => call.cancel();
    const call = fn.call(client, request, new grpc.Metadata(), callOptions, (err, response) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(response as Res);
    });
    if (options.signal?.aborted) call.cancel();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
