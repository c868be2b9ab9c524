/**
 * A deleted secret is forgotten, values included, once it is gone for good: force-deleted (even
 * after a deletion was scheduled) or purged at the end of its recovery window. Long demos delete
 * and recreate many secrets; nothing may keep their values alive. Observed through a WeakRef on a
 * binary value the test handed in, after a full garbage collection.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { startAwsEmulator } from '../../../src/emulators/aws/index.js';
import { smClient } from './helpers.js';

const REGION = 'us-east-1';
const DAY_MS = 86_400_000;

// `gc` is only exposed when the flag is set before a context is created; a fresh vm context gets it.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

describe('deleted secrets', () => {
  it('keeps no value of a secret that was force-deleted after a scheduled deletion, or purged', async () => {
    let now = Date.now();
    const emu = await startAwsEmulator({ now: () => now });
    try {
      const values: Array<WeakRef<Uint8Array>> = [];
      const put = (name: string): void => {
        const value = new Uint8Array(64 * 1024).fill(7);
        values.push(new WeakRef(value));
        emu.putSecret({ name, region: REGION, binary: value });
      };
      put('forced');
      put('purged');
      const sm = smClient(emu);
      await sm.send(new DeleteSecretCommand({ SecretId: 'forced', RecoveryWindowInDays: 7 }));
      await sm.send(new DeleteSecretCommand({ SecretId: 'forced', ForceDeleteWithoutRecovery: true }));
      await sm.send(new DeleteSecretCommand({ SecretId: 'purged', RecoveryWindowInDays: 7 }));
      now += 8 * DAY_MS;
      emu.putSecret({ name: 'unrelated', region: REGION, string: 'x' }); // any lookup purges expired deletions

      // WeakRef targets stay alive until the current job ends; collect from a later task.
      await new Promise((resolve) => setTimeout(resolve, 0));
      collectGarbage();
      expect(values.map((v) => v.deref() === undefined)).toEqual([true, true]);
    } finally {
      await emu.stop();
    }
  });
});
