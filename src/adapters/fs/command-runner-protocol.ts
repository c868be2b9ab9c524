/**
 * The newline-delimited JSON spoken between the agent (HelperProcessCommandRunner) and the mount
 * helper process over the helper's stdin/stdout. One JSON object per line; JSON.stringify escapes
 * newlines inside strings, so a line is always exactly one message. Plain data only.
 */

/** Agent → helper: run `command` with `args`, no shell. */
export interface HelperRequest {
  id: number;
  command: string;
  args: string[];
}

/** Helper → agent: the command ran and ended this way. */
export interface HelperExitReply {
  id: number;
  code: number | null;
  signal: string | null;
  stderr: string;
}

/** Helper → agent: the command could not be started (spawn failed, e.g. ENOENT). */
export interface HelperSpawnErrorReply {
  id: number;
  spawnError: string;
}

export type HelperReply = HelperExitReply | HelperSpawnErrorReply;
