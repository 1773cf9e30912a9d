import { assertInteger, assertKnownOptions, assertObject } from '@dcem/errors';
import { type JobContext, type JobKind, sha256Hex } from '@dcem/tasks';

/** Parameters of a `probe` job. */
export interface ProbeParams {
  /** Any integer: the result is a function of it. */
  value: number;
  /** How long the job takes, in milliseconds (0 to 600 000), reporting progress every 50 ms. */
  ms: number;
}

/** What a `probe` job returns: a deterministic function of its value. */
export interface ProbeResult {
  value: number;
  /** SHA-256 of the value's decimal text. */
  digest: string;
  /** value² / 7, a number with many digits (results must come back bit for bit). */
  ratio: number;
}

function checkProbe(p: unknown): ProbeParams {
  assertObject('params', p);
  assertKnownOptions('probe parameter', p, ['value', 'ms']);
  const q = p as unknown as ProbeParams;
  assertInteger('params.value', q.value, Number.MIN_SAFE_INTEGER);
  assertInteger('params.ms', q.ms, 0);
  if (q.ms > 600_000) throw new RangeError(`params.ms must be ≤ 600000, received ${q.ms}`);
  return { value: q.value, ms: q.ms };
}

/**
 * The job kind `probe`: waits `ms` milliseconds (reporting progress) and
 * returns a deterministic function of `value`. It checks a deployment (Redis,
 * workers) without any study, and the queue's tests use it.
 */
export const PROBE_JOB: JobKind<ProbeParams, ProbeResult> = Object.freeze({
  kind: 'probe',
  version: 1,
  check: checkProbe,
  describe: (p: ProbeParams) => `probe ${p.value}`,
  async run(p: ProbeParams, context: JobContext): Promise<ProbeResult> {
    const start = Date.now();
    while (Date.now() - start < p.ms) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, p.ms - (Date.now() - start))));
      context.onProgress?.(Math.min(1, (Date.now() - start) / Math.max(1, p.ms)));
    }
    return { value: p.value, digest: sha256Hex(String(p.value)), ratio: (p.value * p.value) / 7 };
  },
});
