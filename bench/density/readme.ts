/** Regenerates the results part of bench/README.md from every file in bench/results: `npx tsx bench/density/readme.ts`. */
import { fileURLToPath } from 'node:url';
import { mergedResults, updateReadme } from './report.js';

const root = fileURLToPath(new URL('../', import.meta.url));
await updateReadme(`${root}README.md`, await mergedResults(`${root}results`));
