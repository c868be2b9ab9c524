/**
 * The agent's lifecycle as an explicit state machine with guarded transitions, so a SIGTERM during
 * start-up, or a second SIGTERM, does the right thing instead of racing.
 */
export type AgentState = 'created' | 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

const ALLOWED: Record<AgentState, readonly AgentState[]> = {
  created: ['starting', 'stopped'],
  starting: ['running', 'draining', 'failed'],
  running: ['draining', 'failed'],
  draining: ['stopped', 'failed'],
  stopped: [],
  failed: ['stopped'],
};

export class Lifecycle {
  private current: AgentState = 'created';
  private readonly onTransition: (from: AgentState, to: AgentState) => void;

  constructor(onTransition: (from: AgentState, to: AgentState) => void) {
    this.onTransition = onTransition;
  }

  get state(): AgentState {
    return this.current;
  }

  to(next: AgentState): void {
    if (!ALLOWED[this.current].includes(next)) {
      throw new Error(`illegal agent state transition ${this.current} -> ${next}`);
    }
    const from = this.current;
    this.current = next;
    this.onTransition(from, next);
  }
}
