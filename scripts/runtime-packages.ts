/**
 * The node_modules the shipped bundle needs at run time, and nothing else.
 *
 * The bundle (scripts/bundle.ts) carries every dependency except EXTERNAL_PACKAGES, so the image
 * needs only those packages and what they depend on: a few MB, where `npm ci --omit=dev` installs
 * ~110 MB (@kubernetes/client-node alone is 57 MB) that a node would pull and a scanner would list
 * without the agent ever loading it. The closure is found the way node finds it — each package's
 * dependencies and optionalDependencies resolved from the package's own directory — so nested
 * copies and the platform's prebuilt binaries (koffi's, piscina's optional @napi-rs/nice) come along
 * exactly as npm ci laid them out for this platform; optional packages that are not installed are
 * skipped, as node skips them.
 *
 * Usage: tsx scripts/runtime-packages.ts <dest>  — copies the closure into <dest>/node_modules.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EXTERNAL_PACKAGES } from './bundle.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** The directory of package `name` as node resolves it from `fromDir`, or undefined when it is not installed. */
function packageDir(name: string, fromDir: string): string | undefined {
  const require = createRequire(join(fromDir, 'noop.js'));
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return undefined;
}

/** Absolute directories of `roots` and everything they depend on, as installed under `root`. */
export function runtimePackageDirs(roots: readonly string[] = EXTERNAL_PACKAGES, root = ROOT): string[] {
  const seen = new Set<string>();
  const visit = (name: string, fromDir: string, required: boolean): void => {
    const dir = packageDir(name, fromDir);
    if (dir === undefined) {
      if (required) throw new Error(`${name} (needed at run time by the bundle) is not installed under ${fromDir}`);
      return;
    }
    if (seen.has(dir)) return;
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir, true);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) visit(dep, dir, false);
  };
  for (const name of roots) visit(name, root, true);
  return [...seen].sort();
}

/** Copies the run-time packages into `<dest>/node_modules`, keeping npm's layout (nested copies stay nested). */
export function copyRuntimePackages(dest: string, root = ROOT): string[] {
  const modules = join(root, 'node_modules');
  const dirs = runtimePackageDirs(EXTERNAL_PACKAGES, root);
  for (const dir of dirs) {
    const rel = relative(modules, dir);
    if (rel.startsWith('..')) throw new Error(`${dir} is outside ${modules}`);
    // Skip nested node_modules here: a nested package is in `dirs` itself if it is needed.
    cpSync(dir, join(dest, 'node_modules', rel), { recursive: true, filter: (src) => src === dir || !relative(dir, src).split('/').includes('node_modules') });
  }
  return dirs.map((d) => relative(modules, d));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dest = resolve(process.argv[2] ?? 'runtime');
  const copied = copyRuntimePackages(dest);
  process.stdout.write(`copied ${copied.length} packages into ${join(dest, 'node_modules')}: ${copied.join(', ')}\n`);
}
