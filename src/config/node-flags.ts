/**
 * The node/V8 flags the agent ships with (the image's ENTRYPOINT; a test keeps the two equal, and
 * bench:density runs the agent with them unless told otherwise).
 *
 * --max-semi-space-size=2: V8's young generation defaults to 16 MiB semi-spaces, sized for
 * throughput on big machines. The agent allocates in short bursts (a node booting, a rotation),
 * and with the default its RSS peaked at 268 MiB in the density benchmark (P = 737, rotation
 * phase, no pool thread). With 2 MiB semi-spaces the same run peaked at 207 MiB for about the same
 * CPU (burst 2.00 s vs 1.95 s; bench/README.md has the runs), which keeps room under the
 * DaemonSet's memory limit for pool threads (each is its own V8 heap). Going further (1 MiB + --optimize-for-size) reached
 * 160 MiB but cost ~30 % more CPU, so it is not the default.
 */
export const AGENT_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=2']);
