import { describe, expect, it } from 'vitest';
import { toSpcSpec } from '../../../src/adapters/kubernetes/spc-catalog.js';

describe('toSpcSpec', () => {
  it('keeps a missing secretObjects type empty, so Secret sync rejects it as the driver does', () => {
    const spec = toSpcSpec({
      metadata: { namespace: 'shop', name: 'db', uid: 'u1' },
      spec: { provider: 'aws', parameters: { objects: '' }, secretObjects: [{ secretName: 'db', data: [{ objectName: 'db-password', key: 'password' }] }] },
    });
    expect(spec).toMatchObject({ namespace: 'shop', name: 'db', uid: 'u1', provider: 'aws' });
    expect(spec.secretObjects).toEqual([{ secretName: 'db', type: '', labels: {}, annotations: {}, data: [{ objectName: 'db-password', key: 'password' }] }]);
  });
});
