/**
 * `--agent compiled`: the agent as tsc compiles it, one file per module, run by plain `node` (how
 * the image ran it before the bundle, scripts/bundle.ts; kept for comparison). Under tsx the agent process also carries tsx's loader thread
 * and source maps (measured: 216 MiB vs 140 MiB RSS after loading the same modules), which would
 * be charged to the agent's peak RSS and CPU. This compiles bench/density/agent-process.ts and all
 * of src/ (the pool's worker thread and the mount helper are started by path, not imported) into
 * .bench-build/ (git-ignored) once per benchmark run.
 */
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Compiles the agent process; returns the path of its JavaScript entry. */
export function buildCompiledAgent(): string {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', `${root}tsconfig.bench.json`], { cwd: root, stdio: 'inherit' });
  // The gRPC doors load their .proto files from next to their module.
  cpSync(`${root}src/adapters/grpc/proto`, `${root}.bench-build/src/adapters/grpc/proto`, { recursive: true });
  return `${root}.bench-build/bench/density/agent-process.js`;
}
