/**
 * The image's shape, read from the Dockerfile (no image build here: that needs a registry): a
 * multi-stage build from exactly pinned bases, only the bundle and its run-time packages in the final image, the
 * files the agent needs at run time, mount(8) available, and `secretlet serve` as the entrypoint.
 */
import { readFileSync } from 'node:fs';
import { AGENT_NODE_FLAGS } from '../../src/config/node-flags.js';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './kustomize.js';

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions with line continuations joined and comments dropped, grouped by stage. */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: m?.[1] ?? args, name: m?.[2], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${keyword} before the first FROM`);
      stage.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

const dockerfile = readFileSync(`${REPO_ROOT}Dockerfile`, 'utf8');
const stages = parseDockerfile(dockerfile);
const runtime = stages.at(-1)!;
const names = new Set(stages.map((s) => s.name).filter(Boolean));

function args(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

describe('Dockerfile', () => {
  it('is a multi-stage build from exactly pinned Node LTS images', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      if (names.has(stage.from)) continue;
      expect(stage.from, 'pinned by an exact x.y.z version or a digest').toMatch(/^[\w./-]+(:\d+\.\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$/);
      expect(stage.from).not.toMatch(/:latest$|:lts|:current/);
      const major = /:(\d+)\./.exec(stage.from)?.[1];
      if (major !== undefined) expect(Number(major) % 2, `${stage.from} is an even (LTS) Node major`).toBe(0);
    }
  });

  it('puts only the packages the bundle loads at run time in the final image', () => {
    // The build stage installs, bundles and then copies the run-time closure (scripts/runtime-packages.ts);
    // test/deploy/bundle.test.ts runs `secretlet serve` from exactly that layout.
    const buildStage = stages.find((s) => args(s, 'RUN').some((r) => /scripts\/runtime-packages\.ts \/app\/runtime\b/.test(r)));
    expect(buildStage?.name).toBeDefined();
    expect(args(buildStage!, 'RUN').some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    const copies = args(runtime, 'COPY');
    const nodeModules = copies.filter((c) => /node_modules/.test(c));
    expect(nodeModules).toEqual([`--from=${buildStage!.name} /app/runtime/node_modules ./node_modules`]);
    // The final stage installs nothing itself (no npm at run time).
    expect(args(runtime, 'RUN').some((r) => /\bnpm\b\s+(ci|install)/.test(r))).toBe(false);
  });

  it('ships the bundled agent, its launcher and deploy/ for `secretlet manifests`', () => {
    const copies = args(runtime, 'COPY').join('\n');
    expect(copies).toMatch(/--from=\S+ \/app\/dist \.\/dist/);
    expect(copies).toMatch(/^bin \.\/bin$/m);
    expect(copies).toMatch(/^deploy \.\/deploy$/m);
    expect(copies).toMatch(/^package\.json \.\/$/m);
  });

  it('checks mount and umount are present, runs as root, and enters `secretlet serve` in exec form', () => {
    const runs = args(runtime, 'RUN');
    expect(runs).toContain('["/bin/mount", "--version"]');
    expect(runs).toContain('["/bin/umount", "--version"]');
    expect(args(runtime, 'USER')).toEqual(['0:0']);
    const [entrypoint] = args(runtime, 'ENTRYPOINT');
    expect(JSON.parse(entrypoint ?? 'null')).toEqual(['node', ...AGENT_NODE_FLAGS, '/app/bin/secretlet.js', 'serve']);
    expect(args(runtime, 'CMD')).toEqual([]);
  });

  it('removes the shells after their last use', () => {
    const runs = runtime.instructions.filter((i) => i.keyword === 'RUN');
    const removal = runs.findIndex((r) => /rm -f[^;]*\/bin\/sh/.test(r.args));
    expect(removal).toBeGreaterThanOrEqual(0);
    // Any later RUN would need a shell that is gone, unless it is exec form.
    for (const later of runs.slice(removal + 1)) expect(later.args.startsWith('[')).toBe(true);
  });

  it('never uses a :latest tag anywhere', () => {
    expect(dockerfile).not.toMatch(/:latest\b/);
  });
});

describe('.dockerignore', () => {
  const rules = readFileSync(`${REPO_ROOT}.dockerignore`, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('excludes everything by default and re-includes exactly what the Dockerfile copies from the context', () => {
    expect(rules[0]).toBe('*');
    const included = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/$/, ''));
    const contextSources = stages
      .flatMap((s) => args(s, 'COPY'))
      .filter((c) => !c.startsWith('--from='))
      .flatMap((c) => c.split(/\s+/).slice(0, -1));
    expect(new Set(contextSources)).toEqual(new Set(included));
  });

  it('keeps node_modules, tests and local state out of the context', () => {
    expect(rules).toEqual(expect.arrayContaining(['**/node_modules', 'src/**/*.test.ts', '.secretlet/']));
  });
});
