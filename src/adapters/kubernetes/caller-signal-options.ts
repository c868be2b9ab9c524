/**
 * Per-call options that attach a caller's signal to an API request, so the HTTP/2 transport resets
 * the request's stream and the Retry-After wrapper stops waiting once the caller has given up.
 * client-node's generated calls take no signal of their own; a request middleware is how one reaches
 * the RequestContext.
 */
import { Observable } from '@kubernetes/client-node';
import type { ConfigurationOptions, RequestContext, ResponseContext } from '@kubernetes/client-node';
import type { CallerSignal } from '../../core/ports/caller-signal.js';

/**
 * Options for one API call following `signal`; undefined (the client's defaults) without one. The
 * core passes the door's CallerSignal, which is an AbortSignal; anything else cannot be followed.
 */
export function callerSignalOptions(signal: CallerSignal | undefined): ConfigurationOptions | undefined {
  if (!(signal instanceof AbortSignal)) return undefined;
  return {
    middleware: [
      {
        // The generated calls chain middleware as client-node's own Observable (a promise wrapper).
        pre: (context: RequestContext) => {
          context.setSignal(signal);
          return new Observable(Promise.resolve(context));
        },
        post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
      },
    ],
    // Keep the client's own middleware (authentication among it).
    middlewareMergeStrategy: 'append',
  };
}
