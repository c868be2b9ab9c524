#!/usr/bin/env node
/**
 * The one `secretlet` binary's entry point: parses process.argv with the program of program.ts.
 * Importing this module runs it; tests build the program from program.ts instead.
 */
import { buildProgram } from './program.js';
import { serveArgv } from './serve-argv.js';

const err = (line: string): void => void process.stderr.write(line + '\n');

Promise.resolve()
  .then(() => {
    const { argv, notes } = serveArgv(process.argv);
    return buildProgram(notes).parseAsync(argv);
  })
  .catch((e: unknown) => {
    err(`secretlet: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
