import { describe, expect, it } from 'vitest';
import { identityFor, parseMountRequest, planMount } from './mount-request.js';
import type { MountRequestInput } from './mount-request.js';
import { thrown } from '../../../test/support/thrown.js';


const TOKENS = JSON.stringify({
  'sts.amazonaws.com': { token: 'irsa-jwt', expirationTimestamp: '2030-01-01T00:00:00Z' },
  'pods.eks.amazonaws.com': { token: 'pi-jwt', expirationTimestamp: '2030-01-01T00:00:00Z' },
});

function request(params: Record<string, string>, overrides: Partial<MountRequestInput> = {}): MountRequestInput {
  const attributes = {
    'csi.storage.k8s.io/pod.namespace': 'default',
    'csi.storage.k8s.io/pod.name': 'web-0',
    'csi.storage.k8s.io/pod.uid': 'uid-1',
    'csi.storage.k8s.io/serviceAccount.name': 'app',
    'csi.storage.k8s.io/serviceAccount.tokens': TOKENS,
    ...params,
  };
  return { attributes: JSON.stringify(attributes), targetPath: '/var/lib/kubelet/pods/uid-1/volumes/x/mount', permission: '420', ...overrides };
}

const OBJECTS = '- objectName: db\n  objectType: secretsmanager\n';

describe('parseMountRequest + planMount', () => {
  it('builds a plan with pod, regions, auth mode and objects', () => {
    const parsed = parseMountRequest(request({ objects: OBJECTS, region: 'us-east-1', failoverRegion: 'us-west-2', usePodIdentity: 'true', preferredAddressType: 'IPV6' }));
    const plan = planMount(parsed, parsed.regionParam);
    expect(plan).toMatchObject({
      pod: { namespace: 'default', name: 'web-0', uid: 'uid-1', serviceAccount: 'app' },
      regions: ['us-east-1', 'us-west-2'],
      authMode: 'podIdentity',
      preferredAddressType: 'ipv6',
      pathTranslation: { kind: 'replace', char: '_' },
      defaultMode: 420,
    });
    expect(plan.objects.map((o) => o.fileName)).toEqual(['db']);
    expect(identityFor(parsed)).toEqual({
      mode: 'podIdentity',
      namespace: 'default',
      serviceAccount: 'app',
      podUid: 'uid-1',
      token: 'pi-jwt',
      preferredAddressType: 'ipv6',
    });
  });

  it('uses the IRSA audience by default', () => {
    expect(identityFor(parseMountRequest(request({ objects: OBJECTS }))).token).toBe('irsa-jwt');
  });

  it.each(['rel/dir', '/a/../var/lib/secretlet', '/a//b', '/'])('refuses target_path %j before anything else: the agent writes there as root', (targetPath) => {
    const e = thrown(() => parseMountRequest(request({ objects: OBJECTS }, { targetPath })));
    expect({ code: e.code, field: e.field }).toEqual({ code: 'INVALID_ARGUMENT', field: 'target_path' });
  });

  it('checks in ASCP order: target path, attributes, tokens, permission, regions, usePodIdentity, audience, pathTranslation, objects', () => {
    const everythingWrong = { usePodIdentity: 'yes', pathTranslation: 'ab', objects: '- x', region: 'r', failoverRegion: 'r' };
    expect(thrown(() => parseMountRequest(request(everythingWrong, { targetPath: '', permission: '' }))).message).toBe('Missing mount path');
    expect(thrown(() => parseMountRequest({ attributes: '', targetPath: '/t', permission: '' })).field).toBe('attributes');
    const noTokens = JSON.stringify({ ...everythingWrong });
    expect(thrown(() => parseMountRequest({ attributes: noTokens, targetPath: '/t', permission: '' })).field).toBe('csi.storage.k8s.io/serviceAccount.tokens');
    expect(thrown(() => parseMountRequest(request(everythingWrong, { permission: '"420"' }))).field).toBe('permission');
    expect(thrown(() => parseMountRequest(request(everythingWrong))).field).toBe('failoverRegion');
    const { region: _r, failoverRegion: _f, ...noRegions } = everythingWrong;
    expect(thrown(() => parseMountRequest(request(noRegions))).field).toBe('usePodIdentity');
    const onlyIrsaToken = JSON.stringify({ 'sts.amazonaws.com': { token: 't' } });
    const podIdentityNoToken = request({ usePodIdentity: 'true', pathTranslation: 'ab', 'csi.storage.k8s.io/serviceAccount.tokens': onlyIrsaToken });
    expect(thrown(() => parseMountRequest(podIdentityNoToken)).code).toBe('UNAUTHENTICATED');
    expect(thrown(() => parseMountRequest(request({ pathTranslation: 'ab', objects: '- x' }))).field).toBe('pathTranslation');
    const parsed = parseMountRequest(request({ objects: '- objectType: secretsmanager' }));
    expect(thrown(() => planMount(parsed, 'us-east-1')).field).toBe('objects[0].objectName');
  });

  it("checks a primary region from the node where ASCP does (step 9): before usePodIdentity and pathTranslation", () => {
    const wrongAfterRegions = { failoverRegion: 'us-east-1', usePodIdentity: 'maybe', pathTranslation: 'xx', objects: OBJECTS };
    expect(thrown(() => parseMountRequest(request(wrongAfterRegions), 'us-east-1')).field).toBe('failoverRegion');
    expect(thrown(() => parseMountRequest(request(wrongAfterRegions), 'eu-west-1')).field).toBe('usePodIdentity');
    // No region known at all (offline validation without --region): the rest is still checked.
    expect(thrown(() => parseMountRequest(request(wrongAfterRegions))).field).toBe('usePodIdentity');
  });

  it('checks the failover region against a resolved primary in planMount', () => {
    const parsed = parseMountRequest(request({ objects: OBJECTS, failoverRegion: 'eu-west-1' }));
    expect(planMount(parsed, 'us-east-1').regions).toEqual(['us-east-1', 'eu-west-1']);
    const e = thrown(() => planMount(parsed, 'eu-west-1'));
    expect(e.message).toBe('eu-west-1: failover region cannot be the same as the primary region');
  });

  it('ARN objects must name the resolved primary region', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:1:secret:x';
    const parsed = parseMountRequest(request({ objects: `- objectName: "${arn}"\n` }));
    expect(planMount(parsed, 'us-east-1').objects).toHaveLength(1);
    expect(thrown(() => planMount(parsed, 'eu-west-1')).message).toBe(`ARN region must match region eu-west-1: ${arn} (objects[0].objectName)`);
  });

  it('no error message ever contains a token', () => {
    const inputs = [
      request({ usePodIdentity: 'maybe' }),
      request({ objects: '- {' }),
      { ...request({}), permission: 'x' },
    ];
    for (const input of inputs) {
      let message = '';
      try {
        planMount(parseMountRequest(input), 'us-east-1');
      } catch (e) {
        message = e instanceof Error ? e.message : String(e);
      }
      expect(message).not.toBe('');
      expect(message).not.toContain('jwt');
    }
  });
});
