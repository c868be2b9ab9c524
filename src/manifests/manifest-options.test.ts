import { describe, expect, it } from 'vitest';
import { compileManifestOptions } from './manifest-options.js';

const compile = (rotationInterval: string) => compileManifestOptions({ rotationInterval }, () => '/deploy');

describe('compileManifestOptions rotationInterval', () => {
  it.each(['1m30s', '2m0s', '1h0m0s', '1.5h', '300ms', '90', '0'])("takes Go's duration %s, as the agent does", (value) => {
    expect(compile(value).rotationInterval).toBe(value);
  });

  it.each([
    ['1x', 'must be a duration'],
    ['m', 'must be a duration'],
    ['-1s', 'must not be negative'],
  ])('refuses %s naming the option', (value, problem) => {
    expect(() => compile(value)).toThrow(`options.rotationInterval ${problem}`);
    expect(() => compile(value)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'rotationInterval' }) as Error);
  });
});

describe('compileManifestOptions resources and tolerations', () => {
  // From the CLI these are whatever JSON the user typed; a wrong shape must fail here, not at kubectl apply.
  const withJson = (o: { resources?: unknown; tolerations?: unknown }) => () => compileManifestOptions(o as never, () => '/deploy');

  it('takes a Kubernetes ResourceRequirements and Toleration list', () => {
    const resources = { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' }, claims: [{ name: 'gpu' }] };
    const tolerations = [{ operator: 'Exists' }, { key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute', tolerationSeconds: 30 }, { key: 'k', effect: '' }];
    expect(withJson({ resources, tolerations })()).toMatchObject({ resources, tolerations });
  });

  it.each([
    ['x', 'options.resources must be an object with limits, requests or claims (got a string)', 'resources'],
    [[], 'options.resources must be an object with limits, requests or claims (got a list)', 'resources'],
    [{ limit: { memory: '1Gi' } }, "options.resources.limit is not a field of a container's resources (limits, requests, claims)", 'resources.limit'],
    [{ limits: ['1Gi'] }, 'options.resources.limits must be a map of resource name to quantity (got a list)', 'resources.limits'],
    [{ limits: { memory: '1 Gi' } }, 'options.resources.limits.memory must be a quantity like 50m or 128Mi (got "1 Gi")', 'resources.limits.memory'],
    [{ claims: [{ name: 'gpu', size: 1 }] }, 'options.resources.claims[0].size is not a field of a resource claim (name, request)', 'resources.claims[0].size'],
  ])('refuses resources %j, naming the key', (resources, message, field) => {
    expect(withJson({ resources })).toThrow(message);
    expect(withJson({ resources })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field }) as Error);
  });

  it.each([
    [{ operator: 'Exists' }, 'options.tolerations must be a list (got an object)', 'tolerations'],
    [['x'], 'options.tolerations[0] must be an object (got a string)', 'tolerations[0]'],
    [[{ operator: 'Exists' }, { keys: 'a' }], 'options.tolerations[1].keys is not a field of a toleration (key, operator, value, effect, tolerationSeconds)', 'tolerations[1].keys'],
    [[{ key: 1 }], 'options.tolerations[0].key must be a string (got a number)', 'tolerations[0].key'],
    [[{ effect: 'Never' }], 'options.tolerations[0].effect must be NoSchedule, PreferNoSchedule, NoExecute or empty', 'tolerations[0].effect'],
    [[{ effect: 'NoSchedule', tolerationSeconds: 30 }], 'options.tolerations[0].tolerationSeconds applies only with effect NoExecute', 'tolerations[0].tolerationSeconds'],
  ])('refuses tolerations %j, naming the index', (tolerations, message, field) => {
    expect(withJson({ tolerations })).toThrow(message);
    expect(withJson({ tolerations })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field }) as Error);
  });
});
