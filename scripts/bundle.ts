/**
 * Bundles the agent as it ships (`npm run build` → dist/), with esbuild.
 *
 * Why a bundle and not tsc's one-file-per-module output: importing @kubernetes/client-node loads all
 * of its 936 generated API and model modules (21 MB of source, which V8 keeps in the heap for lazy
 * compilation), because its KubeConfig imports the generated index. That alone took an idle
 * agent's RSS from ~40 to ~105 MiB. esbuild keeps only what secretlet reaches and drops comments
 * and whitespace: measured in the density benchmark's agent process, RSS after start 123 → 94 MiB,
 * heap used 47 → 26 MB — a DaemonSet pays that on every node, all the time.
 *
 * Layout: one ES module per entry, shared code in chunks beside them, and proto/ copied next to
 * them. Everything sits in one directory on purpose: the code finds its run-time files relative to
 * its own module (`new URL('./mount-worker-thread.js', import.meta.url)`, `./proto/csi.proto`,
 * `./mount-helper-process.js`), which in a bundle is the output file or chunk, so those URLs
 * resolve inside `outdir`. The CLI's `await import()` of commands (dev, emulators, manifests)
 * become chunks that `serve` never loads.
 */
import { cpSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The files the image runs: the CLI, the pool's worker thread and the mount helper process (both started by path). */
export const SHIPPED_ENTRIES: Readonly<Record<string, string>> = Object.freeze({
  secretlet: 'src/cli/main.ts',
  'mount-worker-thread': 'src/workers/mount-worker-thread.ts',
  'mount-helper-process': 'src/adapters/fs/mount-helper-process.ts',
});

/**
 * Packages left in node_modules because they find files next to themselves at run time: koffi its
 * native binary, piscina its own worker script, pino the worker files of its transports.
 */
export const EXTERNAL_PACKAGES: readonly string[] = Object.freeze(['koffi', 'piscina', 'pino']);

/**
 * Optional add-ons that bundled packages require inside try/catch and work without (ws:
 * bufferutil, utf-8-validate; node-fetch: encoding). secretlet does not install them, so esbuild
 * cannot resolve them and leaves the require to run time, where it fails and is caught.
 */
export const OPTIONAL_ABSENT_PACKAGES: readonly string[] = Object.freeze(['bufferutil', 'encoding', 'utf-8-validate']);

export interface BundleOptions {
  /** Output directory, emptied first. The external packages must resolve from it: inside the repository, or beside a node_modules from scripts/runtime-packages.ts (the image's /app). */
  outdir: string;
  /** Output name (without .js) → entry source, relative to the repository root. */
  entries?: Readonly<Record<string, string>>;
}

export interface BundleResult {
  /** Output name → absolute path of the entry's file. */
  files: Record<string, string>;
  /** Every module specifier the bundle leaves to node at run time (built-ins and EXTERNAL_PACKAGES), sorted. */
  externalImports: string[];
}

/** Builds the bundle. */
export async function bundleAgent(options: BundleOptions): Promise<BundleResult> {
  const outdir = resolve(ROOT, options.outdir);
  const entries = options.entries ?? SHIPPED_ENTRIES;
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: Object.entries(entries).map(([out, src]) => ({ out, in: src })),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.js' },
    chunkNames: 'chunk-[hash]',
    external: [...EXTERNAL_PACKAGES],
    // Bundled CommonJS dependencies call require() for node built-ins; an ES module has none.
    banner: { js: "import { createRequire as __secretletCreateRequire } from 'node:module'; const require = __secretletCreateRequire(import.meta.url);" },
    minifyWhitespace: true,
    minifySyntax: true,
    // Identifiers stay readable: error names, class names in logs and stack traces.
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
    metafile: true,
  });
  cpSync(join(ROOT, 'src/adapters/grpc/proto'), join(outdir, 'proto'), { recursive: true });
  const externalImports = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) for (const i of output.imports) if (i.external) externalImports.add(i.path);
  return {
    files: Object.fromEntries(Object.keys(entries).map((name) => [name, join(outdir, `${name}.js`)])),
    externalImports: [...externalImports].sort(),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outdir = process.argv[2] ?? 'dist';
  const { files } = await bundleAgent({ outdir });
  process.stdout.write(`bundled ${Object.keys(files).join(', ')} into ${resolve(ROOT, outdir)}\n`);
}
