/**
 * `secretlet serve`: starts the agent and drains on SIGTERM/SIGINT within the drain timeout
 * (stop accepting, finish in-flight mounts, close the doors, flush the log). Resolves with the exit
 * code: 0 drained, 1 the drain timeout (or a second signal) cut in-flight mounts off, 2 the drain
 * itself hung. The last log line is always `secretlet exiting` with that code, written synchronously
 * before exit.
 */
import { createLogger, stdoutDestination } from '../adapters/logging/logger.js';
import type { CompiledAgentOptions } from '../config/agent-options.js';
import { Agent } from '../main/agent.js';

/** `upstreamNotes`: what each upstream DaemonSet flag given became (upstream-flags.ts), logged at start. */
export async function runServe(options: CompiledAgentOptions, upstreamNotes: readonly string[] = []): Promise<number> {
  const agent = Agent.create(options, { logger: createLogger({ level: options.logLevel, destination: stdoutDestination() }) });
  for (const note of upstreamNotes) agent.logger.info({ note }, 'upstream flag');
  const starting = agent.start();
  // Heard from the start: a SIGTERM while the agent starts (the API server slow to answer its first
  // list) would otherwise kill it by default, without a drain or its last log line. It is acted on
  // once the start has settled, so stop() never races the doors being bound.
  const started = starting.then(
    () => true,
    () => false,
  );
  const exitCode = new Promise<number>((resolve) => {
    let signalled = false;
    let finished = false;
    const finish = (code: number, drained: boolean): void => {
      if (finished) return;
      finished = true;
      agent.logger.info({ code, drained }, 'secretlet exiting');
      agent.logger.flush();
      resolve(code);
    };
    const onSignal = (signal: string): void => {
      if (signalled) {
        // A second Ctrl-C (or SIGTERM) is someone who will not wait for the drain: in-flight mounts are
        // cut off (kubelet retries them), as when the drain timeout passes.
        agent.logger.warn({ signal, inFlight: agent.inFlightCount }, 'second signal, exiting without finishing the drain');
        finish(1, false);
        return;
      }
      signalled = true;
      agent.logger.info({ signal, drainTimeoutMs: options.drainTimeoutMs }, 'received signal, draining');
      void started.then((ok) => {
        // A start that failed is reported by runServe's caller; there is nothing to drain.
        if (!ok) return;
        // A hard bound on the whole drain, in case something below ignores its own deadline.
        const guard = setTimeout(() => finish(2, false), options.drainTimeoutMs + 5000);
        guard.unref();
        void agent.stop().then(({ drained }) => {
          clearTimeout(guard);
          finish(drained ? 0 : 1, drained);
        });
      });
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
  });
  // A second signal may end it before the start has settled (a first list waiting on a throttled
  // API server): whichever comes first.
  return Promise.race([
    exitCode,
    starting.then(
      () => exitCode,
      (e: unknown) => {
        throw namingMetricsAddr(e, options.metricsAddr);
      },
    ),
  ]);
}

/**
 * The metrics server is the agent's only TCP listener (both doors are unix sockets), so a TCP listen
 * failure is about --metrics-addr; Node's own message (`listen EADDRINUSE … :::8095`) names no option.
 * Worded as `options.metricsAddr` so the CLI names the flag or SECRETLET_METRICS_ADDR, as it was given.
 */
function namingMetricsAddr(e: unknown, metricsAddr: string): unknown {
  const failure = e as (NodeJS.ErrnoException & { port?: unknown }) | undefined;
  // A unix socket's failure carries port -1.
  if (failure?.syscall !== 'listen' || typeof failure.port !== 'number' || failure.port < 0) return e;
  return new Error(`options.metricsAddr: cannot listen on ${metricsAddr}: ${failure.code ?? failure.message}`, { cause: e });
}
