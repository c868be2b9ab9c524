import { describe, expect, it } from 'vitest';
import { checkNodePublish, checkNodeStage, checkNodeUnpublish, checkNodeUnstage } from './csi-node-validation.js';
import type { WireNodePublishVolumeRequest, WireNodeStageVolumeRequest } from './wire-types.js';

const capability = { mount: { fs_type: '', mount_flags: [], volume_mount_group: '' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } };

const publish: WireNodePublishVolumeRequest = {
  volume_id: 'csi-1',
  publish_context: {},
  staging_target_path: '',
  target_path: '/t',
  volume_capability: capability,
  readonly: true,
  secrets: {},
  volume_context: { secretProviderClass: 'spc' },
};

describe('checkNodePublish', () => {
  it('accepts a complete request, whatever readonly says (readonly is checked later, after the SPC lookup)', () => {
    expect(checkNodePublish(publish)).toBeUndefined();
    expect(checkNodePublish({ ...publish, readonly: false })).toBeUndefined();
  });

  it('names the field of each failing check', () => {
    expect(checkNodePublish({ ...publish, volume_capability: null })).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'volume_capability',
      message: 'Volume capability missing in request',
    });
    expect(checkNodePublish({ ...publish, volume_id: '' })).toMatchObject({ field: 'volume_id', message: 'Volume ID missing in request' });
    expect(checkNodePublish({ ...publish, target_path: '' })).toMatchObject({ field: 'target_path', message: 'Target path missing in request' });
    expect(checkNodePublish({ ...publish, volume_context: {} })).toMatchObject({
      field: 'volume_context',
      message: 'Volume attributes missing in request',
    });
  });

  it('reports the capability before the volume id, and the target path before the attributes', () => {
    expect(checkNodePublish({ ...publish, volume_capability: null, volume_id: '' })?.field).toBe('volume_capability');
    expect(checkNodePublish({ ...publish, target_path: '', volume_context: {} })?.field).toBe('target_path');
  });
});

describe('target_path form (after the upstream checks)', () => {
  const kubeletPath = '/var/lib/kubelet/pods/0d3b6c4e-1f2a-4b5c-8d9e-0a1b2c3d4e5f/volumes/kubernetes.io~csi/secrets-store-inline/mount';
  const refused = ['/', '//', 'mount', 'pods/uid/mount', './mount', '/tmp/x/../victim', '/tmp/x/..', '/..', '/tmp/./x', '/tmp//x', '/tmp/x//', '/tmp/x\0y', `/tmp/${'n'.repeat(256)}`];

  it('accepts kubelet\'s paths, other roots, and one trailing slash', () => {
    for (const target_path of [kubeletPath, '/tmp/secretlet-harness-Ab12/pods/u/volumes/kubernetes.io~csi/secrets/mount', '/data/kubelet/x/', '/tmp/csi/mount']) {
      expect(checkNodePublish({ ...publish, target_path }), target_path).toBeUndefined();
      expect(checkNodeUnpublish({ volume_id: 'v', target_path }), target_path).toBeUndefined();
    }
  });

  it('refuses a relative or unnormalized path with INVALID_ARGUMENT naming target_path, on publish and unpublish', () => {
    for (const target_path of refused) {
      const expected = { code: 'INVALID_ARGUMENT', reason: 'InvalidTargetPath', field: 'target_path', message: expect.stringContaining('target_path') };
      expect(checkNodePublish({ ...publish, target_path }), target_path).toMatchObject(expected);
      expect(checkNodeUnpublish({ volume_id: 'v', target_path }), target_path).toMatchObject(expected);
    }
  });

  it('comes after every upstream check, so those keep their errors', () => {
    expect(checkNodePublish({ ...publish, target_path: 'rel', volume_context: {} })?.field).toBe('volume_context');
    expect(checkNodePublish({ ...publish, target_path: 'rel', volume_id: '' })?.field).toBe('volume_id');
    expect(checkNodeUnpublish({ volume_id: '', target_path: '/a/../b' })?.field).toBe('volume_id');
  });
});

describe('checkNodeUnpublish', () => {
  it('reports the volume id before the target path', () => {
    expect(checkNodeUnpublish({ volume_id: '', target_path: '' })?.message).toBe('Volume ID missing in request');
    expect(checkNodeUnpublish({ volume_id: 'v', target_path: '' })?.message).toBe('Target path missing in request');
    expect(checkNodeUnpublish({ volume_id: 'v', target_path: '/t' })).toBeUndefined();
  });
});

describe('checkNodeStage / checkNodeUnstage', () => {
  const stage: WireNodeStageVolumeRequest = {
    volume_id: 'v',
    publish_context: {},
    staging_target_path: '/s',
    volume_capability: capability,
    secrets: {},
    volume_context: {},
  };

  it('stage checks the capability last, unlike publish', () => {
    expect(checkNodeStage({ ...stage, volume_id: '', volume_capability: null })?.message).toBe('Volume ID missing in request');
    expect(checkNodeStage({ ...stage, staging_target_path: '', volume_capability: null })).toMatchObject({
      field: 'staging_target_path',
      message: 'Target path missing in request',
    });
    expect(checkNodeStage({ ...stage, volume_capability: null })?.message).toBe('Volume capability missing in request');
    expect(checkNodeStage(stage)).toBeUndefined();
  });

  it('unstage checks the volume id and the staging path', () => {
    expect(checkNodeUnstage({ volume_id: '', staging_target_path: '/s' })?.message).toBe('Volume ID missing in request');
    expect(checkNodeUnstage({ volume_id: 'v', staging_target_path: '' })?.message).toBe('Target path missing in request');
    expect(checkNodeUnstage({ volume_id: 'v', staging_target_path: '/s' })).toBeUndefined();
  });
});
