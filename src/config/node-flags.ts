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
 *
 * --heap-growing-percent=35: after each full GC V8 lets the old generation grow to a multiple of
 * what survived, chosen for throughput (here ~2.2×: a ~45 MiB live heap was allowed ~100 MiB).
 * The agent's live heap is small and its garbage comes in bursts, so that headroom became RSS that
 * stayed: 168-183 MiB at P = 737 once the burst was over. Capping the factor at 1.35 ran more old-
 * generation GCs for about the same CPU (three alternating pairs, bench/results/ab/2026-12-07-*:
 * CPU over all phases 7.9-8.3 s vs 8.0-8.6 s on the CSI door, 4.6-4.9 vs 4.5-6.0 on the provider
 * door) and peaked at 134-141 MiB in every phase. The price is event-loop delay: about +4 ms at a
 * burst's p99 (paired medians at P = 250: 37 vs 33 ms, CSI; 36 vs 31 ms, provider). 20 % reached
 * 128 MiB but cost ~20 % more CPU. The cap sets when V8 collects, not how much it may hold: a larger
 * live heap still fits.
 */
export const AGENT_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=2', '--heap-growing-percent=35']);
