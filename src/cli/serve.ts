/**
 * `secretlet serve`: starts the agent and drains on SIGTERM/SIGINT within the drain timeout
 * (stop accepting, finish in-flight mounts, close the doors, flush the log, close the pool).
 */
import type { CompiledAgentOptions } from '../config/agent-options.js';
import { Agent } from '../main/agent.js';

export async function runServe(options: CompiledAgentOptions): Promise<number> {
  const agent = Agent.create(options);
  await agent.start();
  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: string): void => {
      if (signalled) return;
      signalled = true;
      agent.logger.info({ signal }, 'received signal, draining');
      // A hard bound on the whole drain, in case something below ignores its own deadline.
      const guard = setTimeout(() => resolve(2), options.drainTimeoutMs + 5000);
      guard.unref();
      void agent.stop().then(({ drained }) => {
        clearTimeout(guard);
        agent.logger.flush();
        resolve(drained ? 0 : 1);
      });
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
  });
}
