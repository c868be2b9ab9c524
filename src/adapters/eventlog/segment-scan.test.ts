import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toLoggedEvent } from '../../core/events/events.js';
import type { NewEvent } from '../../core/events/events.js';
import { sealJson, unsealJson } from './sealed-json.js';
import { scanSegment } from './segment-scan.js';

function unpublished(key: string): NewEvent {
  return { type: 'MountUnpublished', payload: { mountKey: key } };
}

/** A segment of `n` records starting at `firstSeq`, with non-ASCII to exercise UTF-8 byte offsets. */
function segment(n: number, firstSeq = 1): Buffer {
  const lines = Array.from({ length: n }, (_v, i) => `${sealJson(toLoggedEvent(unpublished(`uid-${i}-é✓/vol`), firstSeq + i, '2026-05-01T00:00:00.000Z'))}\n`);
  return Buffer.from(lines.join(''), 'utf8');
}

describe('sealed JSON', () => {
  it('detects any change to the sealed text', () => {
    const sealed = sealJson({ seq: 1, payload: { mountKey: 'a/b' } });
    expect(unsealJson(sealed)).toEqual({ ok: true, value: { seq: 1, payload: { mountKey: 'a/b' } } });
    expect(unsealJson(sealed.replace('a/b', 'a/c'))).toEqual({ ok: false, problem: 'bad-checksum' });
    expect(unsealJson(sealed.slice(0, -3))).toEqual({ ok: false, problem: 'bad-json' });
  });
});

describe('scanSegment', () => {
  it('reads a sealed record of a type this version does not know as unrecognized, in its place', () => {
    const newer = (type: string, seq: number) => `${sealJson({ seq, time: '2026-12-08T00:00:00.000Z', type, payload: {} })}\n`;
    const bytes = Buffer.concat([segment(1), Buffer.from(newer('MountQuarantined', 2)), segment(1, 3)]);
    const scan = scanSegment(bytes, 1);
    expect(scan.records.map((r) => [r.seq, r.type])).toEqual([[1, 'MountUnpublished'], [2, 'Unrecognized'], [3, 'MountUnpublished']]);
    expect(scan.records[1]).toMatchObject({ recordType: 'MountQuarantined' });
    expect(scan).toMatchObject({ goodBytes: bytes.length, lastSeq: 3, bad: undefined });
    // A type that is no identifier, or that names the placeholder itself, is damage, not a newer version.
    for (const type of ['mount published', '', 'Unrecognized']) {
      expect(scanSegment(Buffer.from(newer(type, 1)), 1).bad, type).toMatchObject({ problem: 'bad-record' });
    }
  });

  it('reads every record of an intact segment', () => {
    const bytes = segment(5, 10);
    const scan = scanSegment(bytes, 10);
    expect(scan.records.map((r) => r.seq)).toEqual([10, 11, 12, 13, 14]);
    expect(scan).toMatchObject({ goodBytes: bytes.length, lastSeq: 14, bad: undefined });
  });

  it('cutting a segment at any byte keeps the records before the cut and is always a cuttable tail', () => {
    const bytes = segment(6);
    const lineEnds = [...bytes.entries()].filter(([, b]) => b === 0x0a).map(([i]) => i + 1);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length }), (cut) => {
        const scan = scanSegment(bytes.subarray(0, cut), 1);
        const whole = lineEnds.filter((end) => end <= cut);
        expect(scan.records).toHaveLength(whole.length);
        expect(scan.goodBytes).toBe(whole.at(-1) ?? 0);
        if (scan.goodBytes === cut) expect(scan.bad).toBeUndefined();
        else expect(scan.bad).toMatchObject({ problem: 'torn-line', offset: scan.goodBytes, lines: 1, followedByGood: false });
      }),
    );
  });

  it('a zero-filled tail (a power loss before the data blocks landed) is a torn tail', () => {
    const bytes = Buffer.concat([segment(2), Buffer.alloc(300)]);
    expect(scanSegment(bytes, 1).bad).toMatchObject({ problem: 'torn-line', followedByGood: false });
  });

  it('damage followed by a valid record is reported as not at the tail', () => {
    const good = segment(4);
    const text = good.toString('utf8').split('\n');
    text[1] = (text[1] ?? '').replace('"seq":2', '"seq":7');
    const scan = scanSegment(Buffer.from(text.join('\n')), 1);
    expect(scan.records.map((r) => r.seq)).toEqual([1]);
    expect(scan.bad).toMatchObject({ problem: 'bad-checksum', lines: 3, followedByGood: true });
  });

  it('a checksummed line that is not an event, or a seq out of order, ends the good records', () => {
    const notEvent = Buffer.from(`${sealJson({ seq: 1, type: 'Snapshot', payload: {} })}\n`);
    expect(scanSegment(notEvent, 1).bad?.problem).toBe('bad-record');
    expect(scanSegment(segment(2, 5), 1).bad?.problem).toBe('seq-gap');
  });
});
