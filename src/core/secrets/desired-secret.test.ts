import { describe, expect, it } from 'vitest';
import type { SecretObjectSpec } from '../ports/spc-catalog.js';
import { MANAGED_LABEL, buildDesiredSecret } from './desired-secret.js';

const files = new Map([['db-password', new TextEncoder().encode('s3cr3t')]]);

function build(spec: Partial<SecretObjectSpec>) {
  return () =>
    buildDesiredSecret({
      namespace: 'shop',
      spcName: 'db',
      index: 0,
      files,
      spec: { secretName: 'db', type: 'Opaque', labels: {}, annotations: {}, data: [{ objectName: 'db-password', key: 'password' }], ...spec },
    });
}

describe('buildDesiredSecret: the driver’s checks and texts (driver.md §4.3 step 9)', () => {
  it('builds the Secret from the mounted files, labelled managed', () => {
    const secret = build({ secretName: ' db ', type: ' Opaque ', labels: { team: 'web' } })();
    expect(secret).toMatchObject({ namespace: 'shop', name: 'db', type: 'Opaque', labels: { team: 'web', [MANAGED_LABEL]: 'true' } });
    expect(new TextDecoder().decode(secret.data['password'])).toBe('s3cr3t');
  });

  it('rejects a secretObject without a type (the driver does not default it to Opaque here)', () => {
    expect(build({ type: '  ' })).toThrow(expect.objectContaining({ message: 'secret type is empty', field: 'spec.secretObjects[0].type' }));
  });

  it.each([
    [{ data: [{ objectName: ' ', key: 'password' }] }, 'object name in secretObjects.data', 'spec.secretObjects[0].data[0].objectName'],
    [{ data: [{ objectName: 'db-password', key: '' }] }, 'key in secretObjects.data is empty', 'spec.secretObjects[0].data[0].key'],
    [{ data: [{ objectName: 'nope', key: 'password' }] }, 'file matching objectName nope not found in the pod', 'spec.secretObjects[0].data[0].objectName'],
    [{ data: [{ objectName: 'db-password', key: 'password' }, { objectName: 'db-password', key: '__proto__' }] }, 'key __proto__ in secretObjects.data cannot be synced by secretlet', 'spec.secretObjects[0].data[1].key'],
    [{ type: 'kubernetes.io/tls', data: [{ objectName: 'db-password', key: 'password' }] }, "key 'password' is not supported. Only 'tls.key' and 'tls.crt' are supported", 'spec.secretObjects[0].data'],
  ])('wraps a data failure in the driver’s text: %j', (spec, reason, field) => {
    expect(build(spec)).toThrow(expect.objectContaining({ message: `failed to get data in spc shop/db for secret db, err: ${reason}`, field, code: 'FAILED_PRECONDITION' }));
  });
});
