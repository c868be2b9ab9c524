import { describe, expect, it } from 'vitest';
import { sanitizePublishRequest } from './csi-sanitize.js';
import type { NodePublishRequest } from './csi-types.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.payload.signature';

const request: NodePublishRequest = {
  volumeId: 'csi-1',
  targetPath: '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/s/mount',
  volumeContext: {
    secretProviderClass: 'spc',
    'csi.storage.k8s.io/pod.name': 'web-0',
    'csi.storage.k8s.io/serviceAccount.tokens': `{"sts.amazonaws.com":{"token":"${TOKEN}","expirationTimestamp":"x"}}`,
  },
  secrets: { password: 'hunter2' },
  readonly: true,
  mountFlags: ['ro'],
};

describe('sanitizePublishRequest', () => {
  it('strips the service-account tokens and drops secrets, keeping everything else', () => {
    const sanitized = sanitizePublishRequest(request);
    expect(sanitized).toEqual({
      volumeId: 'csi-1',
      targetPath: request.targetPath,
      volumeContext: {
        secretProviderClass: 'spc',
        'csi.storage.k8s.io/pod.name': 'web-0',
        'csi.storage.k8s.io/serviceAccount.tokens': '***stripped***',
      },
      readonly: true,
      mountFlags: ['ro'],
    });
    const logged = JSON.stringify(sanitized);
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain('hunter2');
  });

  it('does not add a tokens key that was not there, and leaves the input untouched', () => {
    const withoutTokens = { ...request, volumeContext: { secretProviderClass: 'spc' } };
    expect(sanitizePublishRequest(withoutTokens).volumeContext).toEqual({ secretProviderClass: 'spc' });
    sanitizePublishRequest(request);
    expect(request.volumeContext['csi.storage.k8s.io/serviceAccount.tokens']).toContain(TOKEN);
    expect(request.secrets).toEqual({ password: 'hunter2' });
  });
});
