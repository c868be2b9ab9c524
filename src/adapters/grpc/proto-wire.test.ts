/**
 * Byte-level checks of the two proto files against the field numbers of the real protocols: the
 * requests are built by hand from (field number, wire type) as the Go driver and kubelet would
 * encode them, so a wrong number or type in a .proto file fails here even though our own client
 * and server (sharing the same file) would still agree with each other.
 */
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';

const options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const load = (file: string): protoLoader.PackageDefinition =>
  protoLoader.loadSync(fileURLToPath(new URL(`./proto/${file}.proto`, import.meta.url)), options);

function method(def: protoLoader.PackageDefinition, service: string, name: string): protoLoader.MethodDefinition<object, object> {
  const svc = def[service] as protoLoader.ServiceDefinition;
  const m = svc[name];
  if (!m) throw new Error(`${service}/${name} missing`);
  return m as protoLoader.MethodDefinition<object, object>;
}

// Minimal protobuf writer: tag = field << 3 | wire type (0 varint, 2 length-delimited).
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
};
const bytesField = (field: number, payload: number[]): number[] => [...varint((field << 3) | 2), ...varint(payload.length), ...payload];
const str = (field: number, s: string): number[] => bytesField(field, [...Buffer.from(s, 'utf8')]);
const num = (field: number, n: number): number[] => [...varint(field << 3), ...varint(n)];
const mapEntry = (field: number, key: string, value: string): number[] => bytesField(field, [...str(1, key), ...str(2, value)]);

describe('provider.proto matches v1alpha1 on the wire', () => {
  const def = load('provider');

  it('decodes a MountRequest encoded with the driver field numbers', () => {
    const bytes = Buffer.from([
      ...str(1, '{"a":"b"}'),
      ...str(2, 'null'),
      ...str(3, '/target'),
      ...str(4, '420'),
      ...bytesField(5, [...str(1, 'db'), ...str(2, 'v1')]),
    ]);
    expect(method(def, 'v1alpha1.CSIDriverProvider', 'Mount').requestDeserialize(bytes)).toEqual({
      attributes: '{"a":"b"}',
      secrets: 'null',
      target_path: '/target',
      permission: '420',
      current_object_version: [{ id: 'db', version: 'v1' }],
    });
  });

  it('encodes a MountResponse with the driver field numbers', () => {
    const encoded = method(def, 'v1alpha1.CSIDriverProvider', 'Mount').responseSerialize({
      object_version: [{ id: 'db', version: 'v1' }],
      files: [{ path: 'db', mode: 420, contents: new Uint8Array([7, 8]) }],
    });
    expect([...encoded]).toEqual([
      ...bytesField(1, [...str(1, 'db'), ...str(2, 'v1')]),
      ...bytesField(3, [...str(1, 'db'), ...num(2, 420), ...bytesField(3, [7, 8])]),
    ]);
  });

  it('encodes a VersionResponse with the driver field numbers', () => {
    const encoded = method(def, 'v1alpha1.CSIDriverProvider', 'Version').responseSerialize({
      version: 'v1alpha1',
      runtime_name: 'n',
      runtime_version: 'r',
    });
    expect([...encoded]).toEqual([...str(1, 'v1alpha1'), ...str(2, 'n'), ...str(3, 'r')]);
  });
});

describe('csi.proto matches csi.v1 on the wire', () => {
  const def = load('csi');

  it('decodes a NodePublishVolumeRequest encoded with the CSI field numbers', () => {
    const capability = [...bytesField(2, [...str(1, 'ext4'), ...str(2, 'ro')]), ...bytesField(3, num(1, 2))];
    const bytes = Buffer.from([
      ...str(1, 'csi-1'),
      ...mapEntry(2, 'pk', 'pv'),
      ...str(3, '/staging'),
      ...str(4, '/target'),
      ...bytesField(5, capability),
      ...num(6, 1),
      ...mapEntry(7, 'sk', 'sv'),
      ...mapEntry(8, 'secretProviderClass', 'spc'),
    ]);
    expect(method(def, 'csi.v1.Node', 'NodePublishVolume').requestDeserialize(bytes)).toMatchObject({
      volume_id: 'csi-1',
      publish_context: { pk: 'pv' },
      staging_target_path: '/staging',
      target_path: '/target',
      volume_capability: {
        mount: { fs_type: 'ext4', mount_flags: ['ro'] },
        access_mode: { mode: 'SINGLE_NODE_READER_ONLY' },
        access_type: 'mount',
      },
      readonly: true,
      secrets: { sk: 'sv' },
      volume_context: { secretProviderClass: 'spc' },
    });
  });

  it('decodes a NodeUnpublishVolumeRequest and a NodeStageVolumeRequest', () => {
    expect(
      method(def, 'csi.v1.Node', 'NodeUnpublishVolume').requestDeserialize(Buffer.from([...str(1, 'v'), ...str(2, '/t')])),
    ).toEqual({ volume_id: 'v', target_path: '/t' });
    expect(
      method(def, 'csi.v1.Node', 'NodeStageVolume').requestDeserialize(
        Buffer.from([...str(1, 'v'), ...str(3, '/s'), ...bytesField(4, bytesField(1, []))]),
      ),
    ).toMatchObject({ volume_id: 'v', staging_target_path: '/s', volume_capability: { access_type: 'block' } });
  });

  it('encodes Identity and Node answers with the CSI field numbers and enum values', () => {
    const ser = (svc: string, m: string, value: object): number[] => [...method(def, svc, m).responseSerialize(value)];
    expect(ser('csi.v1.Identity', 'GetPluginInfo', { name: 'n', vendor_version: 'v' })).toEqual([...str(1, 'n'), ...str(2, 'v')]);
    expect(ser('csi.v1.Identity', 'GetPluginCapabilities', { capabilities: [{ service: { type: 'CONTROLLER_SERVICE' } }] })).toEqual(
      bytesField(1, bytesField(1, num(1, 1))),
    );
    expect(ser('csi.v1.Identity', 'Probe', { ready: { value: true } })).toEqual(bytesField(1, num(1, 1)));
    expect(ser('csi.v1.Node', 'NodeGetCapabilities', { capabilities: [{ rpc: { type: 'STAGE_UNSTAGE_VOLUME' } }] })).toEqual(
      bytesField(1, bytesField(1, num(1, 1))),
    );
    expect(ser('csi.v1.Node', 'NodeGetInfo', { node_id: 'node-a' })).toEqual(str(1, 'node-a'));
    // UNKNOWN is 0: protobufjs writes an explicitly set zero where Go would omit it; both decode alike.
    expect(ser('csi.v1.Controller', 'ControllerGetCapabilities', { capabilities: [{ rpc: { type: 'UNKNOWN' } }] })).toEqual(
      bytesField(1, bytesField(1, num(1, 0))),
    );
  });

  it('has the full CSI method paths kubelet calls', () => {
    expect(method(def, 'csi.v1.Node', 'NodePublishVolume').path).toBe('/csi.v1.Node/NodePublishVolume');
    expect(method(def, 'csi.v1.Identity', 'Probe').path).toBe('/csi.v1.Identity/Probe');
    expect(method(load('provider'), 'v1alpha1.CSIDriverProvider', 'Mount').path).toBe('/v1alpha1.CSIDriverProvider/Mount');
  });
});
