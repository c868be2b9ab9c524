import { describe, expect, it } from 'vitest';
import { SecretletError } from '../../core/errors.js';
import { parseUnixEndpoint } from './endpoint.js';

describe('parseUnixEndpoint', () => {
  it.each([
    ['unix:///csi/csi.sock', '/csi/csi.sock'],
    ['unix://tmp/csi.sock', '/tmp/csi.sock'],
    ['UNIX:///var/run/x/aws.sock', '/var/run/x/aws.sock'],
    ['unix:/abs/p.sock', '/abs/p.sock'],
    ['/var/run/secrets-store-csi-providers/aws.sock', '/var/run/secrets-store-csi-providers/aws.sock'],
    ['unix:////double//slash.sock', '/double/slash.sock'],
  ])('reads %s as the socket %s', (endpoint, path) => {
    expect(parseUnixEndpoint(endpoint)).toBe(path);
  });

  it.each(['tcp://127.0.0.1:10000', 'unix://', 'relative/path.sock', '', 'unix:relative.sock', 'unix:///dir/'])(
    'rejects %j as an invalid endpoint',
    (endpoint) => {
      let caught: unknown;
      try {
        parseUnixEndpoint(endpoint);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(SecretletError);
      expect(caught).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'InvalidEndpoint', field: 'endpoint' });
    },
  );
});
