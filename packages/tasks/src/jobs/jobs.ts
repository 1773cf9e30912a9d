import { assertInteger, assertObject, describeValue } from '@dcem/errors';
import { sha256Hex } from './sha256.js';

/**
 * A job specification: everything that determines one independent run of a
 * study (a planner-study cell, a training run, a MuJoCo episode), as plain
 * JSON. Its id ({@link jobId}) is a hash of it, so the same run always has
 * the same id, on any machine.
 */
export interface JobSpec<P = unknown> {
  /** The job kind's name ({@link JobKind.kind}). */
  readonly kind: string;
  /** The kind's version: bumped when the kind computes something else from the same parameters. */
  readonly version: number;
  /**
   * The tfjs backend the job runs on (results differ between backends in
   * the last bits, so it is part of the id); absent for jobs without tensors.
   */
  readonly backend?: string;
  /** The kind's parameters (JSON: numbers, strings, booleans, null, arrays and plain objects). */
  readonly params: P;
}

/** What a job's `run` may use besides its parameters; nothing here may change the result. */
export interface JobContext {
  /** Progress of the job, a fraction in [0, 1]. */
  onProgress?: (fraction: number) => void;
  /** A line for people. */
  log?: (line: string) => void;
  /** Threads the job may start for itself (MuJoCo rollouts), chosen by the machine that runs it. */
  workers?: number;
  /**
   * A folder of this job's own (named by its id), where a long job keeps its
   * checkpoints so that a retry resumes instead of starting again: on the
   * same machine, or on another one where the folder is on a shared volume.
   * Absent: the job keeps no state, and a retry starts from the beginning.
   * A job must give the same result whether or not it resumed.
   */
  stateDir?: string;
}

/**
 * A kind of job: how to check its parameters and how to run it. A kind is
 * registered once in a {@link JobRegistry}; every machine that runs jobs
 * registers the same kinds.
 *
 * `check` must reject malformed parameters with a `TypeError` or
 * `RangeError` that names the parameter (a queue fails such a job at once
 * instead of retrying it); `run` must be deterministic in its parameters
 * (and the spec's backend), return JSON-safe values (finite numbers, no
 * typed arrays: encode them, for example with {@link encodeFloat32}) and
 * print nothing.
 *
 * @typeParam P The parameters, after `check`.
 * @typeParam R The result.
 */
export interface JobKind<P = unknown, R = unknown> {
  /** The name, kebab-case: `[a-z][a-z0-9-]*`. */
  readonly kind: string;
  /** An integer ≥ 1, part of every id: bump it when `run` changes its results. */
  readonly version: number;
  /** Checks raw parameters (from a queue or a file) and returns them typed. */
  check(params: unknown): P;
  /** A short label for progress bars. */
  describe(params: P): string;
  /** Runs the job. */
  run(params: P, context: JobContext): R | Promise<R>;
}

/** The kinds of jobs a machine can run, by name. */
export interface JobRegistry {
  /** Adds kinds (the one call a new study makes); a name registered twice is an error. Returns the registry. */
  register(...kinds: readonly JobKind[]): JobRegistry;
  /** The kind of that name, or undefined. */
  get(kind: string): JobKind | undefined;
  /** The registered names, sorted. */
  names(): string[];
  /**
   * Checks a raw specification: known kind, same version, parameters that
   * pass the kind's `check`. Throws a `TypeError` or `RangeError` naming the
   * field otherwise.
   */
  parse(spec: unknown): { kind: JobKind; spec: JobSpec };
  /** Checks `spec` ({@link JobRegistry.parse}) and runs it; the result comes back through JSON, as from a queue. */
  run(spec: unknown, context?: JobContext): Promise<unknown>;
}

const KIND_NAME = /^[a-z][a-z0-9-]*$/;
const SPEC_KEYS = new Set(['kind', 'version', 'backend', 'params']);

/**
 * The canonical JSON text of a value: object keys sorted, no whitespace, so
 * equal values give equal text whatever the order their keys were written
 * in. Only JSON values are accepted.
 *
 * @param value Numbers (finite), strings, booleans, null, arrays and plain objects.
 * @returns The text.
 * @throws TypeError naming the path of a value JSON cannot hold (undefined,
 *   a function, a typed array, a class instance) or a non-finite number.
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  const write = (v: unknown, path: string): string => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new TypeError(`${path} must be a finite number, received ${v}`);
      return JSON.stringify(v);
    }
    if (Array.isArray(v)) return `[${v.map((x, i) => write(x, `${path}[${i}]`)).join(',')}]`;
    if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write(o[k], `${path}.${k}`)}`).join(',')}}`;
    }
    throw new TypeError(`${path} must be a JSON value, received ${describeValue(v)}`);
  };
  return write(value, 'value');
}

/**
 * The stable id of a job: `<kind>-<first 32 hex digits of SHA-256(canonical JSON of the spec)>`.
 * Equal specifications have equal ids on every machine; a queue keeps one
 * job per id and a result file one record per id.
 *
 * @param spec The specification.
 * @returns The id (letters, digits and `-`: valid as a BullMQ job id and a file name).
 * @example
 * ```ts
 * jobId({ kind: 'probe', version: 1, params: { value: 1, ms: 0 } }); // 'probe-…'
 * ```
 */
export function jobId(spec: JobSpec): string {
  assertObject('spec', spec);
  if (typeof spec.kind !== 'string' || !KIND_NAME.test(spec.kind)) {
    throw new TypeError(`spec.kind must be a kebab-case name, received ${describeValue(spec.kind)}`);
  }
  const hashed = {
    kind: spec.kind,
    version: spec.version,
    ...(spec.backend !== undefined ? { backend: spec.backend } : {}),
    params: spec.params,
  };
  return `${spec.kind}-${sha256Hex(canonicalJson(hashed)).slice(0, 32)}`;
}

/** Round-trips a value through JSON (what a queue does to a result), checking that it is JSON. */
function throughJson(value: unknown, what: string): unknown {
  if (value === undefined) throw new TypeError(`${what} must be a JSON value, received undefined`);
  return JSON.parse(canonicalJson(value));
}

/**
 * A registry of job kinds. The `dcem` command has one with the kinds of its
 * studies; a new study makes its kinds runnable everywhere with one
 * `register` call.
 *
 * @param kinds Kinds to register at once.
 * @returns The registry.
 * @example
 * ```ts
 * const jobs = createJobRegistry([PLANNER_CELL_JOB]);
 * jobs.register(MY_STUDY_JOB);
 * await jobs.run({ kind: 'probe', version: 1, params: { value: 1, ms: 0 } });
 * ```
 */
export function createJobRegistry(kinds: readonly JobKind[] = []): JobRegistry {
  const byName = new Map<string, JobKind>();
  const registry: JobRegistry = {
    register(...more) {
      for (const [i, k] of more.entries()) {
        assertObject(`kinds[${i}]`, k);
        if (typeof k.kind !== 'string' || !KIND_NAME.test(k.kind)) {
          throw new TypeError(
            `kinds[${i}].kind must be a kebab-case name, received ${describeValue(k.kind)}`,
          );
        }
        assertInteger(`kinds[${i}].version`, k.version, 1);
        for (const method of ['check', 'describe', 'run'] as const) {
          if (typeof k[method] !== 'function') {
            throw new TypeError(
              `kinds[${i}].${method} must be a function, received ${describeValue(k[method])}`,
            );
          }
        }
        if (byName.has(k.kind)) throw new RangeError(`job kind "${k.kind}" is already registered`);
        byName.set(k.kind, k);
      }
      return registry;
    },
    get: (name) => byName.get(name),
    names: () => [...byName.keys()].sort(),
    parse(spec) {
      if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
        throw new TypeError(`job spec must be an object, received ${describeValue(spec)}`);
      }
      const s = spec as Record<string, unknown>;
      const unknown = Object.keys(s).find((key) => !SPEC_KEYS.has(key));
      if (unknown !== undefined) {
        throw new TypeError(
          `job spec has an unknown field "${unknown}" (fields: kind, version, backend, params)`,
        );
      }
      const kind = typeof s.kind === 'string' ? byName.get(s.kind) : undefined;
      if (kind === undefined) {
        throw new RangeError(
          `job spec.kind must be one of ${registry.names().join(', ') || '(none registered)'}, received ${describeValue(s.kind)}`,
        );
      }
      if (s.version !== kind.version) {
        throw new RangeError(
          `job spec.version of "${kind.kind}" must be ${kind.version} (this machine's), received ${describeValue(s.version)}`,
        );
      }
      if (s.backend !== undefined && typeof s.backend !== 'string') {
        throw new TypeError(`job spec.backend must be a string, received ${describeValue(s.backend)}`);
      }
      const params = kind.check(s.params);
      return {
        kind,
        spec: {
          kind: kind.kind,
          version: kind.version,
          ...(s.backend !== undefined ? { backend: s.backend as string } : {}),
          params,
        },
      };
    },
    async run(spec, context = {}) {
      const { kind, spec: checked } = registry.parse(spec);
      return throughJson(await kind.run(checked.params, context), `the result of job kind "${kind.kind}"`);
    },
  };
  registry.register(...kinds);
  return registry;
}

/** One finished job: its id, its specification and its result (a line of a study's JSONL file). */
export interface JobRecord<R = unknown> {
  id: string;
  spec: JobSpec;
  result: R;
}

/**
 * One line of a study's result file (JSONL) for a finished job, without the newline.
 *
 * @param spec The job's specification.
 * @param result Its result (JSON).
 * @returns `{"id":…,"spec":…,"result":…}` with sorted keys.
 * @example
 * ```ts
 * appendFileSync(file, `${formatJobRecord(spec, result)}\n`);
 * ```
 */
export function formatJobRecord(spec: JobSpec, result: unknown): string {
  return canonicalJson({ id: jobId(spec), spec, result: throughJson(result, 'result') });
}

/** What {@link parseJobRecords} found in a result file. */
export interface ParsedJobRecords {
  /** One record per id, the first line of each id (results of a job are deterministic). */
  records: Map<string, JobRecord>;
  /** Lines seen again for an id already read (a job delivered twice): dropped. */
  duplicates: number;
  /** Lines that are not a record (an interrupted write, or an id that does not match its spec): dropped. */
  invalid: number;
}

/**
 * Reads a study's result file (JSONL, one {@link JobRecord} per line): each
 * id once, whatever happened while it was written (at-least-once delivery
 * writes a job twice; a killed writer leaves a torn last line).
 *
 * @param text The file's text.
 * @returns The records by id, and counts of the lines dropped.
 * @example
 * ```ts
 * const { records } = parseJobRecords(readFileSync(file, 'utf8'));
 * const todo = specs.filter((s) => !records.has(jobId(s)));
 * ```
 */
export function parseJobRecords(text: string): ParsedJobRecords {
  if (typeof text !== 'string') throw new TypeError(`text must be a string, received ${describeValue(text)}`);
  const records = new Map<string, JobRecord>();
  let duplicates = 0;
  let invalid = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let record: JobRecord;
    try {
      record = JSON.parse(line) as JobRecord;
      if (typeof record?.id !== 'string' || !('result' in record) || jobId(record.spec) !== record.id) {
        invalid++;
        continue;
      }
    } catch {
      invalid++;
      continue;
    }
    if (records.has(record.id)) duplicates++;
    else records.set(record.id, record);
  }
  return { records, duplicates, invalid };
}

/** Options of {@link runJobsLocally}. */
export interface RunJobsOptions {
  /** Records already made (read from the study's file): those ids are not run again. */
  done?: ReadonlyMap<string, JobRecord>;
  /** Before each job that runs. */
  onStart?: (info: { id: string; spec: JobSpec; index: number; count: number; label: string }) => void;
  /** The context each job gets (its progress callback, for example). */
  context?: (id: string, spec: JobSpec) => JobContext;
  /** After each job that ran, with its record: append it to the study's file. */
  onRecord?: (record: JobRecord) => void;
}

/**
 * Runs a study's jobs one after the other in this process (the default, with
 * no queue): each id once, skipping those in `options.done`.
 *
 * @param registry The kinds.
 * @param specs The study's jobs, in its order (equal specs run once).
 * @param options Records already made, callbacks.
 * @returns The record of every spec by id, in the order of `specs`, the ones of `done` included.
 * @example
 * ```ts
 * const records = await runJobsLocally(jobs, specs, { onRecord: (r) => appendFileSync(f, `${JSON.stringify(r)}\n`) });
 * ```
 */
export async function runJobsLocally(
  registry: JobRegistry,
  specs: readonly JobSpec[],
  options: RunJobsOptions = {},
): Promise<Map<string, JobRecord>> {
  const made = new Map<string, JobRecord>();
  const ids = specs.map((spec) => jobId(spec));
  const todo: { id: string; spec: JobSpec }[] = [];
  specs.forEach((spec, i) => {
    const id = ids[i] as string;
    const done = options.done?.get(id);
    if (done !== undefined) made.set(id, done);
    else if (!todo.some((t) => t.id === id)) todo.push({ id, spec });
  });
  for (const [index, { id, spec }] of todo.entries()) {
    const { kind, spec: checked } = registry.parse(spec);
    options.onStart?.({ id, spec, index, count: todo.length, label: kind.describe(checked.params) });
    const result = await registry.run(spec, options.context?.(id, spec) ?? {});
    const record: JobRecord = { id, spec, result };
    made.set(id, record);
    options.onRecord?.(record);
  }
  return new Map(ids.map((id) => [id, made.get(id) as JobRecord]));
}

/**
 * Float32 values as base64 text (little-endian bytes), so that results with
 * weights stay JSON and exact.
 *
 * @param values The values.
 * @returns Base64 of their bytes.
 * @example
 * ```ts
 * decodeFloat32(encodeFloat32(new Float32Array([1.5, -2]))); // Float32Array [1.5, -2]
 * ```
 */
export function encodeFloat32(values: Float32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    view.setFloat32(4 * i, v, true);
  });
  let text = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] as number;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    text += B64[(n >> 18) & 63];
    text += B64[(n >> 12) & 63];
    text += b === undefined ? '=' : B64[(n >> 6) & 63];
    text += c === undefined ? '=' : B64[n & 63];
  }
  return text;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * The inverse of {@link encodeFloat32}.
 *
 * @param text Base64 of little-endian float32 bytes.
 * @returns The values.
 * @throws TypeError when `text` is not such base64.
 * @example
 * ```ts
 * decodeFloat32('AADAPwAAAMA='); // Float32Array [1.5, -2]
 * ```
 */
export function decodeFloat32(text: string): Float32Array {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new TypeError(`text must be base64 of float32 values, received ${describeValue(text)}`);
  }
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const length = (text.length / 4) * 3 - pad;
  if (length % 4 !== 0)
    throw new TypeError(`text holds ${length} bytes, not a whole number of float32 values`);
  const bytes = new Uint8Array(length);
  for (let i = 0, j = 0; i < text.length; i += 4) {
    const n =
      (B64.indexOf(text[i] as string) << 18) |
      (B64.indexOf(text[i + 1] as string) << 12) |
      ((B64.indexOf(text[i + 2] as string) & 63) << 6) |
      (B64.indexOf(text[i + 3] as string) & 63);
    for (const byte of [(n >> 16) & 255, (n >> 8) & 255, n & 255]) if (j < length) bytes[j++] = byte;
  }
  const view = new DataView(bytes.buffer);
  return Float32Array.from({ length: length / 4 }, (_, i) => view.getFloat32(4 * i, true));
}
