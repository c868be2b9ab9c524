/**
 * Labels and annotations as the API server checks them on every object: a chart whose label value
 * has a space, or whose label key has an uppercase prefix, is refused with 422 Invalid naming
 * `metadata.labels`, as on a cluster, and nothing is stored; annotation keys are checked lowercased.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, startWithClients } from './helpers.js';
import type { Clients } from './helpers.js';

const NS = 'meta';
let c: Clients;
beforeAll(async () => {
  c = await startWithClients({}, [NS]);
});
afterAll(async () => {
  await c.emulator.stop();
});

const secret = (name: string, labels: Record<string, string>, annotations: Record<string, string> = {}) =>
  c.core.createNamespacedSecret({ namespace: NS, body: { metadata: { name, labels, annotations }, stringData: { k: 'v' } } });

describe('labels and annotations', () => {
  it('refuses a label value with a space, naming metadata.labels and quoting the value', async () => {
    const refused = await failure(secret('spaced', { team: 'payments team' }));
    expect(refused.code).toBe(422);
    expect(refused.status).toMatchObject({
      reason: 'Invalid',
      message: expect.stringMatching(/^Secret "spaced" is invalid: metadata\.labels: Invalid value: "payments team": a valid label must be an empty string or consist of alphanumeric characters/) as unknown as string,
      details: { causes: [{ reason: 'FieldValueInvalid', field: 'metadata.labels' }] },
    });
    expect(c.emulator.get('v1', 'Secret', NS, 'spaced')).toBeUndefined();
  });

  it('refuses a label key whose prefix is not a lowercase DNS subdomain, or whose name is too long', async () => {
    const prefix = await failure(secret('prefixed', { 'Example.com/app': 'web' }));
    expect(String(prefix.status['message'])).toContain('metadata.labels: Invalid value: "Example.com/app": prefix part a lowercase RFC 1123 subdomain must consist of');
    const long = await failure(secret('long', { ['x'.repeat(64)]: 'web' }));
    expect(String(long.status['message'])).toContain('name part must be no more than 63 characters');
  });

  it('refuses an annotation key that is not a qualified name, and takes one with uppercase letters', async () => {
    const refused = await failure(secret('annotated', {}, { 'a/b/c': 'x' }));
    expect(String(refused.status['message'])).toContain('metadata.annotations: Invalid value: "a/b/c": a qualified name must consist of');
    await secret('fine', { 'app.kubernetes.io/name': 'web', tier: '', Version: 'V1.2_3' }, { 'Example.COM/Owner': 'Team A, with spaces' });
    expect(c.emulator.get('v1', 'Secret', NS, 'fine')?.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'web', tier: '', Version: 'V1.2_3' });
  });

  it('checks updates too', async () => {
    await secret('later', { team: 'a' });
    const refused = await failure(c.core.replaceNamespacedSecret({ name: 'later', namespace: NS, body: { metadata: { name: 'later', labels: { team: 'a b' } }, stringData: { k: 'v' } } }));
    expect(refused.code).toBe(422);
    expect(c.emulator.get('v1', 'Secret', NS, 'later')?.metadata.labels).toEqual({ team: 'a' });
  });
});
