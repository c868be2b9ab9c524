/**
 * `kubernetes.io/tls` Secrets from a mounted PEM bundle (driver.md §4.5): `tls.crt` gets every
 * CERTIFICATE block, re-encoded as Go's pem.Encode writes it (LF line ends, 64-column base64), and
 * `tls.key` the last non-certificate block, re-encoded as PKCS#1 (RSA) or SEC1 (EC), as upstream does.
 * PKCS#12 input is not supported (upstream accepts it); the error says so.
 * Uses node:crypto only to re-encode keys: no I/O.
 */
import { createPrivateKey } from 'node:crypto';
import { SecretletError } from '../errors.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

interface PemBlock {
  type: string;
  text: string;
  body: string;
}

function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) out.push({ type: m[1]!, text: m[0], body: m[2]! });
  return out;
}

/**
 * A block as Go's pem.Encode writes it: LF line ends and the base64 in lines of 64. A bundle saved
 * with CRLF, or wrapped at 76 columns, so comes out byte for byte as upstream writes it. A block
 * with RFC 1421 headers (`Proc-Type: …`) keeps its text, with LF line ends.
 */
function reencodeBlock(block: PemBlock): string {
  if (block.body.includes(':')) return block.text.replace(/\r\n/g, '\n') + '\n';
  const base64 = Buffer.from(block.body.replace(/\s+/g, ''), 'base64').toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${block.type}-----\n${lines.map((l) => `${l}\n`).join('')}-----END ${block.type}-----\n`;
}

function tlsError(message: string, field: string): SecretletError {
  return new SecretletError({ code: 'FAILED_PRECONDITION', reason: 'FailedToCreateSecret', message, field });
}

function reencodeKey(block: PemBlock, field: string): string {
  let key;
  try {
    key = createPrivateKey(block.text);
  } catch {
    return '-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n';
  }
  if (key.asymmetricKeyType === 'rsa') return String(key.export({ format: 'pem', type: 'pkcs1' }));
  if (key.asymmetricKeyType === 'ec') return String(key.export({ format: 'pem', type: 'sec1' }));
  throw tlsError('unknown private key type found while getting key. Only rsa and ecdsa are supported', field);
}

export function splitTlsData(data: Record<string, Uint8Array>, field: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  const enc = new TextEncoder();
  for (const [key, bytes] of Object.entries(data)) {
    const blocks = pemBlocks(new TextDecoder().decode(bytes));
    if (key === 'tls.crt') {
      const certs = blocks.filter((b) => b.type === 'CERTIFICATE');
      if (certs.length === 0) throw tlsError(`no CERTIFICATE PEM block for tls.crt (PKCS#12 input is not supported)`, field);
      out[key] = enc.encode(certs.map(reencodeBlock).join(''));
    } else if (key === 'tls.key') {
      const keys = blocks.filter((b) => b.type !== 'CERTIFICATE');
      const last = keys[keys.length - 1];
      if (last === undefined) throw tlsError('no private key PEM block for tls.key (PKCS#12 input is not supported)', field);
      out[key] = enc.encode(reencodeKey(last, field));
    } else {
      throw tlsError(`key '${key}' is not supported. Only 'tls.key' and 'tls.crt' are supported`, field);
    }
  }
  return out;
}
