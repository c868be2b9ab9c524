import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretletError } from '../errors.js';
import type { PathTranslation } from '../model.js';
import { validateObjects } from './validate-objects.js';
import type { ObjectRegions } from './validate-objects.js';

const ONE_REGION: ObjectRegions = { primary: 'us-east-1', failover: undefined };
const TWO_REGIONS: ObjectRegions = { primary: 'us-east-1', failover: 'us-west-2' };
const UNDERSCORE: PathTranslation = { kind: 'replace', char: '_' };

interface Opts {
  regions?: ObjectRegions;
  pathTranslation?: PathTranslation;
}

function validate(objectsText: string, opts: Opts = {}) {
  return validateObjects({ objectsText, pathTranslation: opts.pathTranslation ?? UNDERSCORE, regions: opts.regions ?? ONE_REGION });
}

function errorOf(objectsText: string, opts: Opts = {}): SecretletError {
  try {
    validate(objectsText, opts);
  } catch (e) {
    if (e instanceof SecretletError) return e;
    throw e;
  }
  throw new Error('expected validation to fail');
}

/** Asserts code, field and message (ASCP text first, then the field). */
function expectRejected(objectsText: string, field: string, ascpText: string, opts: Opts = {}): SecretletError {
  const e = errorOf(objectsText, opts);
  expect(e.code).toBe('INVALID_ARGUMENT');
  expect(e.field).toBe(field);
  expect(e.message).toBe(`${ascpText} (${field})`);
  return e;
}

const SM = 'objectType: secretsmanager';
const SSM = 'objectType: ssmparameter';
const ARN_SM = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123';
const ARN_SSM = 'arn:aws:ssm:us-east-1:123456789012:parameter/app/key';

describe('§6.1 validateSecretDescriptor, in order', () => {
  it('1. object name required', () => {
    expectRejected(`- ${SM}\n`, 'objects[0].objectName', 'Object name must be specified');
  });

  it('2. object name checks (§6.2) run next', () => {
    expectRejected(`- objectName: a\n  objectType: ssm\n  filePermission: bad\n`, 'objects[0].objectType', 'Invalid objectType: ssm');
  });

  it('3. SSM may not have both version and label; Secrets Manager may', () => {
    expectRejected(
      `- objectName: p\n  ${SSM}\n  objectVersion: "1"\n  objectVersionLabel: prod\n`,
      'objects[0].objectVersionLabel',
      'ssm parameters can not specify both objectVersion and objectVersionLabel: p',
    );
    expect(validate(`- objectName: s\n  ${SM}\n  objectVersion: v1\n  objectVersionLabel: AWSCURRENT\n`)).toHaveLength(1);
  });

  it('4. the file name may not contain ../', () => {
    expectRejected(`- objectName: a/../../etc/x\n  ${SM}\n`, 'objects[0].objectName', 'path can not contain ../: a/../../etc/x', {
      pathTranslation: { kind: 'none' },
    });
    expectRejected(`- objectName: s\n  objectAlias: ../x\n  ${SM}\n`, 'objects[0].objectAlias', 'path can not contain ../: s', {
      pathTranslation: { kind: 'none' },
    });
  });

  it('5. filePermission must be four octal digits', () => {
    expectRejected(`- objectName: s\n  ${SM}\n  filePermission: 0644\n`, 'objects[0].filePermission', 'Invalid File Permission: 420');
    expectRejected(`- objectName: s\n  ${SM}\n  filePermission: "0800"\n`, 'objects[0].filePermission', 'Invalid File Permission: 0800');
    expect(validate(`- objectName: s\n  ${SM}\n  filePermission: "0000"\n`)[0]?.filePermission).toBe('0000');
  });

  it('6. each JMES entry needs a path, an alias and a valid permission', () => {
    expectRejected(`- objectName: s\n  ${SM}\n  jmesPath:\n    - objectAlias: u\n`, 'objects[0].jmesPath[0].path', 'Path must be specified for JMES object');
    expectRejected(
      `- objectName: s\n  ${SM}\n  jmesPath:\n    - path: a\n      objectAlias: a\n    - path: u\n`,
      'objects[0].jmesPath[1].objectAlias',
      'Object alias must be specified for JMES object',
    );
    expectRejected(
      `- objectName: s\n  ${SM}\n  jmesPath:\n    - path: u\n      objectAlias: u\n      filePermission: "999"\n`,
      'objects[0].jmesPath[0].filePermission',
      'Invalid File Permission: 999',
    );
  });

  it('7a. a failover object needs an alias', () => {
    expectRejected(
      `- objectName: s\n  ${SM}\n  failoverObject:\n    objectName: t\n`,
      'objects[0].objectAlias',
      'object alias must be specified for objects with failover entries: s',
      { regions: TWO_REGIONS },
    );
  });

  it('7b. a failover object needs a failover region', () => {
    expectRejected(
      `- objectName: s\n  ${SM}\n  objectAlias: a\n  failoverObject:\n    objectName: t\n`,
      'objects[0].failoverObject.objectName',
      'failover object allowed only when failover region is defined: s',
    );
  });

  it("7c. the failover name is checked against the failover region with the primary's type", () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:1:secret:t';
    expectRejected(
      `- objectName: s\n  ${SM}\n  objectAlias: a\n  failoverObject:\n    objectName: ${arn}\n`,
      'objects[0].failoverObject.objectName',
      `ARN region must match region us-west-2: ${arn}`,
      { regions: TWO_REGIONS },
    );
    // TestFallbackNonARNStillNeedsObjectType: primary is an ARN without objectType.
    expectRejected(
      `- objectName: ${ARN_SM}\n  objectAlias: a\n  failoverObject:\n    objectName: plain\n`,
      'objects[0].objectType',
      'Must use objectType when a full ARN is not specified: plain',
      { regions: TWO_REGIONS },
    );
  });

  it('7d. SSM failover may not have both version and label', () => {
    expectRejected(
      `- objectName: p\n  ${SSM}\n  objectAlias: a\n  objectVersion: "1"\n  failoverObject:\n    objectName: q\n    objectVersion: "1"\n    objectVersionLabel: prod\n`,
      'objects[0].failoverObject.objectVersionLabel',
      'ssm parameters can not specify both objectVersion and objectVersionLabel: p',
      { regions: TWO_REGIONS },
    );
  });

  it('7e. failover and primary versions must match (empty vs set differs)', () => {
    expectRejected(
      `- objectName: s\n  ${SM}\n  objectAlias: a\n  failoverObject:\n    objectName: t\n    objectVersion: v2\n`,
      'objects[0].failoverObject.objectVersion',
      'object versions must match between primary and failover regions: s',
      { regions: TWO_REGIONS },
    );
  });

  it('§6.4: a failoverObject without objectName is not validated but kept', () => {
    const [d] = validate(`- objectName: s\n  ${SM}\n  failoverObject:\n    objectVersionLabel: AWSPREVIOUS\n`);
    expect(d?.failoverObject).toEqual({ objectName: '', objectVersion: '', objectVersionLabel: 'AWSPREVIOUS' });
  });
});

describe('§6.2 validateObjectName, in order', () => {
  it('1. ARN with fewer than six sections', () => {
    expectRejected(`- objectName: "arn:aws:secretsmanager:us-east-1:1"\n`, 'objects[0].objectName', 'Invalid ARN format in object name: arn:aws:secretsmanager:us-east-1:1');
  });

  it('2. ARN region must equal the primary region (empty region fails)', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:x';
    expectRejected(`- objectName: "${arn}"\n`, 'objects[0].objectName', `ARN region must match region us-east-1: ${arn}`);
    const noRegion = 'arn:aws:secretsmanager::1:secret:x';
    expectRejected(`- objectName: "${noRegion}"\n`, 'objects[0].objectName', `ARN region must match region us-east-1: ${noRegion}`);
  });

  it('3. objectType is required for a non-ARN name', () => {
    expectRejected(`- objectName: plain\n`, 'objects[0].objectType', 'Must use objectType when a full ARN is not specified: plain');
  });

  it('4. without objectType, the ARN service must be known', () => {
    expectRejected(`- objectName: "arn:aws:s3:us-east-1:1:bucket"\n`, 'objects[0].objectName', 'Invalid service in ARN: s3');
  });

  it('5. objectType must be secretsmanager or ssmparameter (case-sensitive; ssm refused)', () => {
    expectRejected(`- objectName: a\n  objectType: ssm\n`, 'objects[0].objectType', 'Invalid objectType: ssm');
    expectRejected(`- objectName: a\n  objectType: SecretsManager\n`, 'objects[0].objectType', 'Invalid objectType: SecretsManager');
  });

  it('6. objectType must match the ARN service', () => {
    expectRejected(`- objectName: "${ARN_SSM}"\n  ${SM}\n`, 'objects[0].objectType', `objectType does not match ARN: ${ARN_SSM}`);
    // Unknown services map to SSM, so ssmparameter passes.
    expect(validate(`- objectName: "arn:aws:bad:us-east-1:1:x"\n  ${SSM}\n`)[0]?.objectType).toBe('ssmparameter');
  });

  it('resolves the type from the ARN (ssm and ssmparameter mean SSM)', () => {
    const list = validate(`- objectName: "${ARN_SM}"\n- objectName: "${ARN_SSM}"\n- objectName: "arn:aws:ssmparameter:us-east-1:1:p"\n`);
    expect(list.map((d) => d.objectType)).toEqual(['secretsmanager', 'ssmparameter', 'ssmparameter']);
  });

  it('skips the ARN-region check when the region is unknown (offline validation)', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:x';
    expect(validate(`- objectName: "${arn}"\n`, { regions: { primary: undefined, failover: undefined } })).toHaveLength(1);
  });
});

describe('§6.3 duplicates', () => {
  it('case 1: same name, same alias, no labels', () => {
    expectRejected(
      `- objectName: s\n  ${SM}\n  objectAlias: a\n- objectName: s\n  ${SM}\n  objectAlias: a\n`,
      'objects[1].objectName',
      'found descriptor with duplicate object name s, duplicate object alias a, and no version label',
    );
  });

  it('case 2: same name, no aliases, same label', () => {
    expectRejected(
      `- objectName: s\n  ${SM}\n  objectVersionLabel: L\n- objectName: s\n  ${SM}\n  objectVersionLabel: L\n`,
      'objects[1].objectName',
      'found descriptor with duplicate object name s, no object alias, and duplicate version label L',
    );
  });

  it('case 3: same name, alias and label', () => {
    expectRejected(
      `- objectName: s\n  ${SM}\n  objectAlias: a\n  objectVersionLabel: L\n- objectName: s\n  ${SM}\n  objectAlias: a\n  objectVersionLabel: L\n`,
      'objects[1].objectName',
      'found descriptor with duplicate object name s, duplicate object alias a, and duplicate version label L',
    );
  });

  it('case 4: same name, no alias, no label', () => {
    expectRejected(
      `- objectName: s\n  ${SM}\n- objectName: s\n  ${SM}\n`,
      'objects[1].objectName',
      'found descriptor with duplicate object name s, no object alias, and no version label',
    );
  });

  it('same name with different labels and aliases is fine', () => {
    expect(validate(`- objectName: s\n  ${SM}\n  objectAlias: cur\n- objectName: s\n  ${SM}\n  objectAlias: prev\n  objectVersionLabel: AWSPREVIOUS\n`)).toHaveLength(2);
  });

  it('duplicate object alias', () => {
    expectRejected(`- objectName: s\n  ${SM}\n  objectAlias: a\n- objectName: t\n  ${SM}\n  objectAlias: a\n`, 'objects[1].objectAlias', 'found duplicate object alias a');
  });

  it('duplicate JMES alias', () => {
    expectRejected(
      `- objectName: s\n  ${SM}\n  objectAlias: a\n- objectName: t\n  ${SM}\n  jmesPath:\n    - path: x\n      objectAlias: a\n`,
      'objects[1].jmesPath[0].objectAlias',
      'Name already in use for objectAlias: found duplicate object alias a in JMES path entry x',
    );
  });

  it('a null element is reported when reached, in order', () => {
    expectRejected(`- objectName: s\n  ${SM}\n-\n`, 'objects[1]', 'Empty descriptor entry in SecretProviderClass');
    expectRejected(`- objectName: s\n-\n`, 'objects[0].objectType', 'Must use objectType when a full ARN is not specified: s');
  });
});

describe('improvements: file-name collisions by final name', () => {
  it('same name, one with a label and one without (ASCP writes one file twice)', () => {
    const e = errorOf(`- objectName: s\n  ${SM}\n- objectName: s\n  ${SM}\n  objectVersionLabel: AWSPREVIOUS\n`);
    expect(e.reason).toBe('FileNameCollision');
    expect(e.field).toBe('objects[1].objectName');
    expect(e.message).toContain('objects[0].objectName');
  });

  it('names that differ only before translation (a/b vs a_b)', () => {
    const e = errorOf(`- objectName: a/b\n  ${SSM}\n- objectName: a_b\n  ${SSM}\n`);
    expect(e.reason).toBe('FileNameCollision');
    expect(e.message).toContain('a_b');
  });

  it("a JMES alias equal to another object's file", () => {
    const e = errorOf(`- objectName: s\n  ${SM}\n- objectName: t\n  ${SM}\n  jmesPath:\n    - path: x\n      objectAlias: s\n`);
    expect(e.reason).toBe('FileNameCollision');
    expect(e.field).toBe('objects[1].jmesPath[0].objectAlias');
  });

  it("a JMES alias equal to its own parent's file", () => {
    const e = errorOf(`- objectName: s\n  ${SM}\n  jmesPath:\n    - path: x\n      objectAlias: s\n`);
    expect(e.reason).toBe('FileNameCollision');
  });

  it.each([
    ['the file first', `- objectName: /app/db\n  ${SSM}\n- objectName: /app/db/password\n  ${SSM}\n`, 'objects[1].objectName needs app/db as a directory, which objects[0].objectName writes as a file'],
    ['the directory first', `- objectName: /app/db/password\n  ${SSM}\n- objectName: /app/db\n  ${SSM}\n`, 'objects[1].objectName writes the file app/db, which objects[0].objectName needs as a directory'],
  ])('with pathTranslation off, a file that another file needs as its directory (%s), before any AWS call', (_order, objects, detail) => {
    const e = errorOf(objects, { pathTranslation: { kind: 'none' } });
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'FileNameCollision', field: 'objects[1].objectName' });
    expect(e.message).toContain(detail);
    // Siblings under one directory are fine.
    expect(() => validate(`- objectName: /app/db/user\n  ${SSM}\n- objectName: /app/db/password\n  ${SSM}\n- objectName: /app/dbx\n  ${SSM}\n`, { pathTranslation: { kind: 'none' } })).not.toThrow();
  });
});

describe('improvements: every file name stays inside the mount', () => {
  it.each([
    ['..', 'objectAlias'],
    ['.', 'objectAlias'],
    ['..data', 'objectAlias'],
    ['a//b', 'objectAlias'],
    ['a/', 'objectAlias'],
    ['a/./b', 'objectAlias'],
    ['x'.repeat(256), 'objectAlias'],
  ])('refuses alias %j (translation off)', (alias, field) => {
    const e = errorOf(`- objectName: s\n  ${SM}\n  objectAlias: "${alias}"\n`, { pathTranslation: { kind: 'none' } });
    expect(e.reason).toBe('UnsafeFileName');
    expect(e.field).toBe(`objects[0].${field}`);
  });

  it('refuses an objectName that is all slashes with translation off (empty name)', () => {
    const e = errorOf(`- objectName: "///"\n  ${SSM}\n`, { pathTranslation: { kind: 'none' } });
    expect(e.reason).toBe('UnsafeFileName');
  });

  it('refuses JMES aliases that escape, which ASCP never checks', () => {
    const e = errorOf(`- objectName: s\n  ${SM}\n  jmesPath:\n    - path: x\n      objectAlias: "../../etc/passwd"\n`, { pathTranslation: { kind: 'none' } });
    expect(e.reason).toBe('UnsafeFileName');
    expect(e.field).toBe('objects[0].jmesPath[0].objectAlias');
  });

  it('accepts nested paths with translation off', () => {
    const [d] = validate(`- objectName: /mypath/TestSecret1\n  ${SSM}\n`, { pathTranslation: { kind: 'none' } });
    expect(d?.fileName).toBe('mypath/TestSecret1');
  });

  it('with pathTranslation "/", mounts slash-free and nested names as they are and refuses an absolute one', () => {
    const slash: PathTranslation = { kind: 'replace', char: '/' };
    expect(validate(`- objectName: MySecret\n  ${SM}\n- objectName: app/db\n  ${SSM}\n`, { pathTranslation: slash }).map((d) => d.fileName)).toEqual(['MySecret', 'app/db']);
    const e = errorOf(`- objectName: /app/db\n  ${SSM}\n`, { pathTranslation: slash });
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('is absolute');
  });

  it('property: any accepted file name is a clean relative path inside the mount', () => {
    const segment = fc.constantFrom('a', 'b', '.', '..', '', '..x', '/', 'c.d', '-', ':');
    const nameArb = fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join(''));
    const translationArb = fc.constantFrom<PathTranslation>({ kind: 'none' }, { kind: 'replace', char: '_' }, { kind: 'replace', char: '.' }, { kind: 'replace', char: '/' });
    fc.assert(
      fc.property(nameArb, nameArb, translationArb, (alias, jmesAlias, pathTranslation) => {
        const text = `- objectName: s\n  ${SM}\n  objectAlias: ${JSON.stringify(alias)}\n  jmesPath:\n    - path: x\n      objectAlias: ${JSON.stringify(jmesAlias)}\n`;
        let names: string[];
        try {
          const [d] = validate(text, { pathTranslation });
          if (d === undefined) return;
          names = [d.fileName, ...d.jmesPath.map((e) => (pathTranslation.kind === 'none' ? e.objectAlias.replace(/^\/+/, '') : e.objectAlias.replaceAll('/', pathTranslation.char)))];
        } catch (e) {
          if (e instanceof SecretletError && e.code === 'INVALID_ARGUMENT') return;
          throw e;
        }
        for (const name of names) {
          const parts = name.split('/');
          expect(name.startsWith('/')).toBe(false);
          expect(parts.every((p) => p !== '' && p !== '.' && p !== '..')).toBe(true);
          expect(parts[0]?.startsWith('..')).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('§7 file naming', () => {
  it.each<[string, PathTranslation, string]>([
    ['mypath/TestSecret1', { kind: 'replace', char: '_' }, 'mypath_TestSecret1'],
    ['mypath/TestSecret1', { kind: 'replace', char: '-' }, 'mypath-TestSecret1'],
    ['/a/b', { kind: 'replace', char: '_' }, '_a_b'],
    ['/TestSecret1', { kind: 'none' }, 'TestSecret1'],
    ['///a/b', { kind: 'none' }, 'a/b'],
    [ARN_SSM, { kind: 'replace', char: '_' }, 'arn:aws:ssm:us-east-1:123456789012:parameter_app_key'],
  ])('%s with %j → %s', (name, pathTranslation, expected) => {
    const type = name.startsWith('arn:') ? '' : `\n  ${SSM}`;
    expect(validate(`- objectName: "${name}"${type}\n`, { pathTranslation })[0]?.fileName).toBe(expected);
  });

  it('uses the alias when set', () => {
    expect(validate(`- objectName: x/y\n  ${SSM}\n  objectAlias: z/w\n`)[0]?.fileName).toBe('z_w');
  });
});
