import { describe, expect, it } from 'vitest';
import { AUDIENCE_IRSA, AUDIENCE_POD_IDENTITY, parseServiceAccountTokens, tokenForMode } from './tokens.js';
import { thrown } from '../../../test/support/thrown.js';


const FIELD = 'csi.storage.k8s.io/serviceAccount.tokens';

describe('serviceAccount.tokens', () => {
  it('parses audience → token entries', () => {
    const tokens = parseServiceAccountTokens(JSON.stringify({ [AUDIENCE_IRSA]: { token: 'jwt-a', expirationTimestamp: '2030-01-01T00:00:00Z' } }));
    expect(tokens[AUDIENCE_IRSA]).toEqual({ token: 'jwt-a', expirationTimestamp: '2030-01-01T00:00:00Z' });
    expect(tokenForMode(tokens, 'irsa')).toBe('jwt-a');
  });

  it('refuses a missing attribute with ASCP text, UNAUTHENTICATED', () => {
    const e = thrown(() => parseServiceAccountTokens(''));
    expect(e.code).toBe('UNAUTHENTICATED');
    expect(e.field).toBe(FIELD);
    expect(e.message).toBe(
      'CSI token error: serviceAccount.tokens not provided - ensure tokenRequests is configured in CSIDriver - ensure tokenRequests is configured in CSIDriver spec',
    );
  });

  it('refuses malformed JSON as INVALID_ARGUMENT without echoing it', () => {
    const e = thrown(() => parseServiceAccountTokens('{"sts.amazonaws.com":{"token":"eyJSECRET"'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/^CSI token error: failed to parse serviceAccount.tokens: .* - ensure tokenRequests is configured in CSIDriver spec$/);
    expect(e.message).not.toContain('eyJSECRET');
  });

  it('reads JSON null as no audiences', () => {
    const e = thrown(() => tokenForMode(parseServiceAccountTokens('null'), 'irsa'));
    expect(e.message).toBe(
      'IRSA token extraction failed: token for audience "sts.amazonaws.com" not found - ensure tokenRequests includes this audience in CSIDriver',
    );
  });

  it('requires only the audience of the chosen mode', () => {
    const tokens = parseServiceAccountTokens(JSON.stringify({ [AUDIENCE_POD_IDENTITY]: { token: 'jwt-p' } }));
    expect(tokenForMode(tokens, 'podIdentity')).toBe('jwt-p');
    const e = thrown(() => tokenForMode(tokens, 'irsa'));
    expect(e.code).toBe('UNAUTHENTICATED');
    expect(e.field).toBe(FIELD);
  });

  it('refuses an empty token for the audience', () => {
    const tokens = parseServiceAccountTokens(JSON.stringify({ [AUDIENCE_POD_IDENTITY]: { token: '' } }));
    const e = thrown(() => tokenForMode(tokens, 'podIdentity'));
    expect(e.message).toBe('Pod Identity token extraction failed: token for audience "pods.eks.amazonaws.com" is empty');
  });

  it('never puts a token in a type error', () => {
    const e = thrown(() => parseServiceAccountTokens(JSON.stringify({ [AUDIENCE_IRSA]: { token: 42 }, other: 'eyJSECRET' })));
    expect(e.message).not.toContain('eyJSECRET');
  });
});
