/**
 * Request counters by verb and resource (`get secretproviderclasses`, `create serviceaccounts/token`),
 * so tests and benchmarks can assert how hard the agent leans on the API server, as a real API
 * server's apiserver_request_total would show.
 */

export class RequestCounters {
  readonly #counts = new Map<string, number>();
  #connections = 0;

  /** A client opened a TCP connection (with TLS: one handshake each), so connection reuse is visible. */
  recordConnection(): void {
    this.#connections++;
  }

  connections(): number {
    return this.#connections;
  }

  record(verb: string, resource: string): void {
    const key = `${verb} ${resource}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  byVerbResource(): Record<string, number> {
    return Object.fromEntries([...this.#counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  total(): number {
    let sum = 0;
    for (const n of this.#counts.values()) sum += n;
    return sum;
  }

  reset(): void {
    this.#counts.clear();
    this.#connections = 0;
  }
}
