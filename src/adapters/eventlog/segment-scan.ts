/**
 * Reads one NDJSON segment and finds where its good records end. A record is good when its line is
 * complete (ends in '\n'), its checksum matches, its envelope is a known event, and its seq is the
 * next one expected. Everything from the first bad line on is "the bad region"; whether that region
 * may be cut (a torn tail from a crash) or is corruption (good records follow it) is the caller's
 * decision, made from `followedByGood`.
 */
import { parseReplayedRecord } from '../../core/events/events.js';
import type { ReplayedRecord } from '../../core/events/events.js';
import { unsealJson } from './sealed-json.js';

/** Why the good records stop: an unterminated line, unparsable text, a checksum mismatch, a record
 * that is not an event, or a seq that does not follow the previous one. */
export type TailProblem = 'torn-line' | 'bad-json' | 'bad-checksum' | 'bad-record' | 'seq-gap';

export interface BadRegion {
  problem: TailProblem;
  /** Byte offset where the bad region starts (= the length of the good prefix). */
  offset: number;
  /** Lines (complete or not) in the bad region. */
  lines: number;
  /** True when a line after the first bad one is a valid record: the damage is not at the tail. */
  followedByGood: boolean;
}

export interface SegmentScan {
  records: ReplayedRecord[];
  /** Length in bytes of the good prefix. */
  goodBytes: number;
  /** Seq of the last good record, or firstSeq - 1 when there is none. */
  lastSeq: number;
  bad: BadRegion | undefined;
}

const NEWLINE = 0x0a;

export function scanSegment(bytes: Uint8Array, firstSeq: number): SegmentScan {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: ReplayedRecord[] = [];
  let pos = 0;
  let expected = firstSeq;
  while (pos < buf.length) {
    const end = buf.indexOf(NEWLINE, pos);
    if (end < 0) return stop(records, pos, expected, { problem: 'torn-line', buf });
    const parsed = parseLine(buf.toString('utf8', pos, end));
    if (!parsed.ok) return stop(records, pos, expected, { problem: parsed.problem, buf });
    if (parsed.record.seq !== expected) return stop(records, pos, expected, { problem: 'seq-gap', buf });
    records.push(parsed.record);
    expected += 1;
    pos = end + 1;
  }
  return { records, goodBytes: pos, lastSeq: expected - 1, bad: undefined };
}

type LineResult = { ok: true; record: ReplayedRecord } | { ok: false; problem: TailProblem };

function parseLine(text: string): LineResult {
  const unsealed = unsealJson(text);
  if (!unsealed.ok) return unsealed;
  const record = parseReplayedRecord(unsealed.value);
  return record === undefined ? { ok: false, problem: 'bad-record' } : { ok: true, record };
}

function stop(
  records: ReplayedRecord[],
  offset: number,
  expected: number,
  ctx: { problem: TailProblem; buf: Buffer },
): SegmentScan {
  let lines = 0;
  let followedByGood = false;
  let pos = offset;
  while (pos < ctx.buf.length) {
    lines += 1;
    const end = ctx.buf.indexOf(NEWLINE, pos);
    if (end < 0) break;
    const line = ctx.buf.toString('utf8', pos, end);
    // Any later valid record means the damage is inside. So does a valid record inside the first bad
    // line itself: a record whose newline was damaged runs into the next one, which is intact.
    if (pos !== offset ? parseLine(line).ok : holdsRecordAfterStart(line)) followedByGood = true;
    pos = end + 1;
  }
  return { records, goodBytes: offset, lastSeq: expected - 1, bad: { problem: ctx.problem, offset, lines, followedByGood } };
}

/** Every record's line starts like this (sealed-json.ts writes `seq` first). */
const RECORD_START = '{"seq":';

/** Whether a valid record starts somewhere after the beginning of `line` and runs to its end. */
function holdsRecordAfterStart(line: string): boolean {
  for (let at = line.indexOf(RECORD_START, 1); at > 0; at = line.indexOf(RECORD_START, at + 1)) {
    if (parseLine(line.slice(at)).ok) return true;
  }
  return false;
}
