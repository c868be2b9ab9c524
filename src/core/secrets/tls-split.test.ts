import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { splitTlsData } from './tls-split.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A CERTIFICATE block of `der`, its base64 wrapped at `width` columns, lines ending in `eol`. */
function block(der: Buffer, width: number, eol: string): string {
  const lines = der.toString('base64').match(new RegExp(`.{1,${width}}`, 'g')) ?? [];
  return `-----BEGIN CERTIFICATE-----${eol}${lines.join(eol)}${eol}-----END CERTIFICATE-----${eol}`;
}

describe('splitTlsData: tls.crt as Go pem.Encode writes it', () => {
  it('re-encodes every certificate with LF line ends and 64-column base64, in order', () => {
    const leaf = randomBytes(700);
    const ca = randomBytes(500);
    const saved = block(leaf, 76, '\r\n') + block(ca, 200, '\n'); // CRLF at 76 columns, then one long line
    const out = splitTlsData({ 'tls.crt': enc.encode(saved) }, 'f');
    expect(dec.decode(out['tls.crt'])).toBe(block(leaf, 64, '\n') + block(ca, 64, '\n'));
  });

  it('leaves a block already in that form byte for byte', () => {
    const pem = block(randomBytes(300), 64, '\n');
    expect(dec.decode(splitTlsData({ 'tls.crt': enc.encode(pem) }, 'f')['tls.crt'])).toBe(pem);
  });

  it('refuses a bundle without a certificate, saying PKCS#12 is not supported', () => {
    expect(() => splitTlsData({ 'tls.crt': enc.encode('not pem') }, 'f')).toThrow('no CERTIFICATE PEM block for tls.crt (PKCS#12 input is not supported)');
  });
});
