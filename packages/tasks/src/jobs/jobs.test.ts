import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  createJobRegistry,
  decodeFloat32,
  encodeFloat32,
  formatJobRecord,
  type JobKind,
  type JobSpec,
  jobId,
  parseJobRecords,
  runJobsLocally,
} from './jobs.js';
import { sha256Hex } from './sha256.js';

const SQUARE: JobKind<{ x: number }, { y: number }> = {
  kind: 'square',
  version: 2,
  check(params) {
    const x = (params as { x?: unknown } | null)?.x;
    if (typeof x !== 'number') throw new TypeError(`params.x must be a number, received ${String(x)}`);
    return { x };
  },
  describe: (p) => `square ${p.x}`,
  run: (p) => ({ y: p.x * p.x }),
};
const spec = (x: unknown): JobSpec => ({ kind: 'square', version: 2, params: { x } });

describe('sha256Hex', () => {
  it("equals node:crypto's SHA-256 on ASCII, Unicode and block-boundary lengths", () => {
    for (const text of [
      '',
      'abc',
      'a'.repeat(55),
      'a'.repeat(56),
      'a'.repeat(64),
      'a'.repeat(1000),
      'τ = 1 ✓ 𝄞',
    ]) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    }
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
      }),
      { numRuns: 200 },
    );
  });
});

describe('canonicalJson and jobId', () => {
  it('sorts keys, so equal specifications written in any order have one id', () => {
    expect(canonicalJson({ b: 1, a: [true, null, { d: 'x', c: 2.5 }] })).toBe(
      '{"a":[true,null,{"c":2.5,"d":"x"}],"b":1}',
    );
    const a = jobId({ kind: 'square', version: 2, params: { x: 1, z: 2 } });
    const b = jobId({ params: { z: 2, x: 1 }, version: 2, kind: 'square' });
    expect(a).toBe(b);
    expect(a).toMatch(/^square-[0-9a-f]{32}$/);
    expect(jobId(spec(2))).not.toBe(a);
    expect(jobId({ ...spec(1), version: 3 })).not.toBe(jobId(spec(1)));
    expect(jobId({ ...spec(1), backend: 'wasm' })).not.toBe(jobId({ ...spec(1), backend: 'cpu' }));
    // Pinned: ids must not change between versions of the library (results on disk are found by them).
    expect(jobId({ kind: 'probe', version: 1, params: { value: 1, ms: 0 } })).toBe(
      `probe-${createHash('sha256').update('{"kind":"probe","params":{"ms":0,"value":1},"version":1}').digest('hex').slice(0, 32)}`,
    );
  });

  it('rejects what JSON cannot hold, naming the path', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow(
      new TypeError('value.a[1] must be a finite number, received NaN'),
    );
    expect(() => canonicalJson({ w: new Float32Array(2) })).toThrow(/value\.w must be a JSON value/);
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
    expect(() => jobId({ kind: 'Bad Kind', version: 1, params: {} })).toThrow(TypeError);
  });
});

describe('createJobRegistry', () => {
  it('runs a registered kind; results come back through JSON', async () => {
    const jobs = createJobRegistry([SQUARE]);
    expect(jobs.names()).toEqual(['square']);
    expect(await jobs.run(spec(3))).toEqual({ y: 9 });
    expect(() => jobs.register(SQUARE)).toThrow(new RangeError('job kind "square" is already registered'));
    const negativeZero = createJobRegistry([{ ...SQUARE, kind: 'neg', run: () => ({ y: -0 }) }]);
    expect(Object.is(((await negativeZero.run({ ...spec(1), kind: 'neg' })) as { y: number }).y, 0)).toBe(
      true,
    );
  });

  it('rejects malformed specifications with typed errors', () => {
    const jobs = createJobRegistry([SQUARE]);
    expect(() => jobs.parse(null)).toThrow(TypeError);
    expect(() => jobs.parse({ kind: 'cube', version: 1, params: {} })).toThrow(
      new RangeError('job spec.kind must be one of square, received "cube"'),
    );
    expect(() => jobs.parse({ ...spec(1), version: 1 })).toThrow(/spec\.version of "square" must be 2/);
    expect(() => jobs.parse(spec('one'))).toThrow(new TypeError('params.x must be a number, received one'));
    expect(() => jobs.parse({ ...spec(1), extra: true })).toThrow(/unknown field "extra"/);
    expect(() => createJobRegistry([{ ...SQUARE, version: 0 }])).toThrow(RangeError);
  });
});

describe('result records', () => {
  it('keep one record per id, and drop torn lines and records whose id does not match', () => {
    const one = formatJobRecord(spec(1), { y: 1 });
    const two = formatJobRecord(spec(2), { y: 4 });
    const forged = one
      .replace('"y":1', '"y":1')
      .replace(/"id":"square-[0-9a-f]+"/, `"id":"${jobId(spec(5))}"`);
    const text = `${one}\n${two}\n${one}\n${forged}\n${two.slice(0, 20)}`;
    const parsed = parseJobRecords(text);
    expect([...parsed.records.keys()]).toEqual([jobId(spec(1)), jobId(spec(2))]);
    expect(parsed.records.get(jobId(spec(2)))?.result).toEqual({ y: 4 });
    expect(parsed.duplicates).toBe(1);
    expect(parsed.invalid).toBe(2);
  });

  it('runJobsLocally runs each id once and skips the records already made', async () => {
    const jobs = createJobRegistry([SQUARE]);
    const ran: number[] = [];
    const counting = createJobRegistry([
      {
        ...SQUARE,
        run: (p: { x: number }) => {
          ran.push(p.x);
          return { y: p.x * p.x };
        },
      },
    ]);
    const done = parseJobRecords(formatJobRecord(spec(2), { y: 4 })).records;
    const records = await runJobsLocally(counting, [spec(1), spec(2), spec(3), spec(1)], { done });
    expect(ran).toEqual([1, 3]);
    expect([...records.values()].map((r) => r.result)).toEqual([{ y: 1 }, { y: 4 }, { y: 9 }]);
    expect(await jobs.run(spec(4))).toEqual({ y: 16 });
  });
});

describe('encodeFloat32 / decodeFloat32', () => {
  it('round-trip every float32 exactly, at every length modulo 3', () => {
    fc.assert(
      fc.property(fc.float32Array({ maxLength: 40 }), (values) => {
        const back = decodeFloat32(encodeFloat32(values));
        expect(back).toHaveLength(values.length);
        values.forEach((v, i) => {
          expect(Object.is(back[i], v)).toBe(true);
        });
      }),
    );
    const bytes = Buffer.from(new Float32Array([1.5, -2]).buffer).toString('base64');
    expect(encodeFloat32(new Float32Array([1.5, -2]))).toBe(bytes);
    expect(() => decodeFloat32('abc')).toThrow(TypeError);
  });
});
