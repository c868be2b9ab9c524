/**
 * The density benchmark measures the agent as it ships (`--agent bundle`, the default): bundled by
 * the same esbuild step as the image's dist/ (scripts/bundle.ts), with bench/density/agent-process.ts
 * as the entry in place of the CLI, into .bench-build/bundle/ (git-ignored), once per benchmark run.
 */
import { SHIPPED_ENTRIES, bundleAgent } from '../../scripts/bundle.js';

/** Bundles the agent process; returns the path of its entry. */
export async function buildBundledAgent(): Promise<string> {
  const { secretlet: _cli, ...started } = SHIPPED_ENTRIES;
  const { files } = await bundleAgent({ outdir: '.bench-build/bundle', entries: { 'agent-process': 'bench/density/agent-process.ts', ...started } });
  return files['agent-process']!;
}
