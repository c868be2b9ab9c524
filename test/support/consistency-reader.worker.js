// Worker side of consistency-reader.ts: a tight, synchronous read loop on its own thread, so it
// truly races with a writer on the main thread. Plain JavaScript because worker_threads load files
// without the test runner's TypeScript transform.
//
// One pass reads every file through the target's top-level names (following the symlinks), then
// evaluates what it saw. If `..data` pointed somewhere else after the pass than before it, a swap
// happened mid-pass: no reader can expect one version across a swap (the kubelet contract is "resolve
// ..data once" / "re-read when ..data changes"), so that pass is counted as torn and not judged.
// A writer that never swaps `..data` has every pass judged.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

const { dir, files, versionOfSource, requireSameVersion, maxViolations, control } = workerData;
// control: [0] stop flag, [1] completed passes (judged + torn), [2] torn passes.
const flags = new Int32Array(control);
// Transpilers may wrap named functions in a `__name(fn, "name")` helper; give the source one.
globalThis.__name = (fn) => fn;
const versionOf = (0, eval)(`(${versionOfSource})`);

function dataLink() {
  try {
    return readlinkSync(join(dir, '..data'));
  } catch {
    return null;
  }
}

let judged = 0;
let violationCount = 0;
const violations = [];

while (Atomics.load(flags, 0) === 0) {
  const before = dataLink();
  const problems = [];
  const tags = [];
  for (const file of files) {
    let text;
    try {
      text = readFileSync(join(dir, file), 'utf8');
    } catch (err) {
      problems.push(`${file}: missing (${err.code ?? err.message})`);
      continue;
    }
    if (text.length === 0) {
      problems.push(`${file}: empty`);
      continue;
    }
    let tag;
    try {
      tag = versionOf(text);
    } catch (err) {
      tag = undefined;
      problems.push(`${file}: versionOf threw ${err.message}`);
      continue;
    }
    if (tag === undefined || tag === null) problems.push(`${file}: no version tag`);
    else tags.push(`${file}=${tag}`);
  }
  const after = dataLink();
  Atomics.add(flags, 1, 1);
  if (before !== after) {
    Atomics.add(flags, 2, 1);
    Atomics.notify(flags, 1);
    continue;
  }
  judged++;
  if (requireSameVersion) {
    const distinct = new Set(tags.map((t) => t.slice(t.lastIndexOf('=') + 1)));
    if (distinct.size > 1) problems.push(`mixed versions: ${tags.join(', ')}`);
  }
  if (problems.length > 0) {
    violationCount++;
    if (violations.length < maxViolations) violations.push(`pass ${judged}: ${problems.join('; ')}`);
  }
  Atomics.notify(flags, 1);
}

parentPort.postMessage({ reads: judged, tornPasses: Atomics.load(flags, 2), violationCount, violations });
