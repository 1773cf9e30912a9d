/// <reference types="node" />
/**
 * Checkpoints of the online loop: everything a run needs to continue bit for
 * bit (settings, counters, the episode history, the model's weights, Adam's
 * state, the replay buffer and the latent decoder when there is one), as plain data, saved to and loaded from a
 * folder of JSON and binary files.
 *
 * @module
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { assertObject, describeValue } from '@dcem/errors';
import type { AdamState } from './adam.js';
import type { ReplayState } from './replay.js';
import type { ResolvedPlanetSettings } from './settings.js';

/** The format version written in every checkpoint. */
export const PLANET_CHECKPOINT_VERSION = 1;

/** The file in a run's folder that names its latest checkpoint folder. */
export const PLANET_LATEST_FILE = 'latest-checkpoint.json';

/** Where a run stands: what it has done so far. */
export interface PlanetCounters {
  /** Episodes collected (seed episodes included); the next collected episode has this index. */
  episodes: number;
  /** Model updates taken; the next update has this index. */
  updates: number;
  /** Evaluation episodes run; the next one has this index. */
  evaluations: number;
  /** Control steps of the collected episodes (agent steps × action repeat). */
  environmentSteps: number;
}

/** One finished episode, as the history keeps it (plain numbers, JSON-safe). */
export interface PlanetEpisodeRecord {
  /** `seed` (uniform random actions), `train` (planner + exploration noise) or `eval` (planner, no noise). */
  kind: 'seed' | 'train' | 'eval';
  /** Index among collected episodes (`seed`, `train`) or among evaluation episodes (`eval`). */
  index: number;
  /** Σ of the rewards (each control step's in [0, 1]). */
  return: number;
  /** Agent steps. */
  steps: number;
  /** Control steps of collected episodes so far, this one included (for `eval`: when it ran). */
  environmentSteps: number;
  /** Model updates taken before this episode. */
  updates: number;
  /** The environment's seed (`makeEnv({ seed, actionRepeat })`, then `reset()`): with `actions`, enough to replay it. */
  envSeed: number;
  /** The actions applied, [steps][A]: kept for evaluation episodes only. */
  actions?: number[][];
  /** Wall seconds stepping the environment. */
  environmentSeconds: number;
  /** Wall seconds filtering and planning in the model. */
  planningSeconds: number;
  /** Wall seconds of the model updates before this episode. */
  updateSeconds: number;
  /** Mean ELBO loss of the updates before this episode (NaN when none). */
  loss: number;
  /** With the latent planner's online training: the mean planned cost of the decoder steps before this episode. */
  decoderCost?: number;
}

/**
 * A run's complete state, as plain data: `runPlanet` resumes from it (bit
 * for bit), {@link savePlanetCheckpoint} writes it to a folder and
 * {@link loadPlanetCheckpoint} reads it back.
 */
export interface PlanetCheckpoint {
  /** {@link PLANET_CHECKPOINT_VERSION}. */
  version: number;
  /** The run's settings (with defaults). */
  settings: ResolvedPlanetSettings;
  /** What it has done. */
  counters: PlanetCounters;
  /** Every finished episode, in order. */
  history: PlanetEpisodeRecord[];
  /** The model's weights: variable names and values, in the model's order. */
  weights: { names: string[]; values: Float32Array[] };
  /** Adam's state. */
  adam: AdamState;
  /** The replay buffer. */
  replay: ReplayState;
  /** The latent planner's decoder (weights in the order of its variables) and its Adam's state, when the run has one. */
  decoder?: { weights: Float32Array[]; adam: AdamState };
}

interface Manifest {
  version: number;
  settings: ResolvedPlanetSettings;
  counters: PlanetCounters;
  history: PlanetEpisodeRecord[];
  weights: { names: string[]; lengths: number[] };
  adam: { step: number; lengths: number[] };
  replay: { observationSize: number; actionSize: number; rows: number[] };
  decoder?: { lengths: number[]; adam: { step: number } };
}

function checkEndianness(): void {
  if (endianness() !== 'LE') {
    throw new Error('planet checkpoints are little-endian float32 files; this machine is big-endian');
  }
}

function concat(arrays: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function split(all: Float32Array, lengths: readonly number[], what: string): Float32Array[] {
  const total = lengths.reduce((n, l) => n + l, 0);
  if (total !== all.length) {
    throw new RangeError(`${what} holds ${all.length} float32 values, the manifest says ${total}`);
  }
  const out: Float32Array[] = [];
  let at = 0;
  for (const l of lengths) {
    out.push(all.slice(at, at + l));
    at += l;
  }
  return out;
}

function writeFloats(path: string, data: Float32Array): void {
  writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function readFloats(path: string): Float32Array {
  const bytes = readFileSync(path);
  if (bytes.byteLength % 4 !== 0)
    throw new RangeError(`${path} is not a float32 file (${bytes.byteLength} bytes)`);
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Non-finite numbers (NaN losses) survive JSON as strings. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

function reviveNumbers(history: PlanetEpisodeRecord[]): PlanetEpisodeRecord[] {
  return history.map((r) => {
    const out = { ...r } as Record<string, unknown>;
    for (const [k, v] of Object.entries(out)) {
      if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') out[k] = Number(v);
    }
    return out as unknown as PlanetEpisodeRecord;
  });
}

/** Folder name of a checkpoint: its collected and evaluation episode counts. */
function folderName(c: PlanetCounters): string {
  return `checkpoint-${String(c.episodes).padStart(6, '0')}-${String(c.evaluations).padStart(6, '0')}`;
}

/**
 * Writes `checkpoint` into `dir` (created if needed) atomically: the files
 * go to a temporary folder, which is renamed to `checkpoint-<episodes>-<evaluations>`;
 * then `latest-checkpoint.json` is replaced (written to a temporary file and
 * renamed) to name it, and older checkpoint folders are removed. A crash at
 * any point leaves the previous checkpoint loadable. Files: `checkpoint.json`
 * (settings, counters, history, sizes) and little-endian float32 files
 * `weights.bin`, `adam-m.bin`, `adam-v.bin`, `replay-observations.bin`,
 * `replay-actions.bin`, `replay-rewards.bin`, and with a latent decoder
 * `decoder.bin`, `decoder-adam-m.bin`, `decoder-adam-v.bin`.
 *
 * @param dir The run's folder.
 * @param checkpoint What `runPlanet` handed to `onCheckpoint`.
 * @returns The checkpoint folder's path.
 * @example
 * ```ts
 * import { loadPlanetCheckpoint, runPlanet, savePlanetCheckpoint } from '@dcem/tasks/planet';
 * const resume = loadPlanetCheckpoint('out/planet'); // undefined for a new run
 * await runPlanet({ env: 'cartpole-swingup' }, { onCheckpoint: (c) => savePlanetCheckpoint('out/planet', c) }, { resume });
 * ```
 */
export function savePlanetCheckpoint(dir: string, checkpoint: PlanetCheckpoint): string {
  assertObject('checkpoint', checkpoint);
  checkEndianness();
  mkdirSync(dir, { recursive: true });
  const name = folderName(checkpoint.counters);
  const tmp = join(dir, `${name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const manifest: Manifest = {
    version: checkpoint.version,
    settings: checkpoint.settings,
    counters: checkpoint.counters,
    history: checkpoint.history,
    weights: { names: checkpoint.weights.names, lengths: checkpoint.weights.values.map((w) => w.length) },
    adam: { step: checkpoint.adam.step, lengths: checkpoint.adam.m.map((m) => m.length) },
    replay: {
      observationSize: checkpoint.replay.observationSize,
      actionSize: checkpoint.replay.actionSize,
      rows: [...checkpoint.replay.rows],
    },
  };
  const decoder = checkpoint.decoder;
  if (decoder !== undefined) {
    manifest.decoder = {
      lengths: decoder.weights.map((w) => w.length),
      adam: { step: decoder.adam.step },
    };
    writeFloats(join(tmp, 'decoder.bin'), concat(decoder.weights));
    writeFloats(join(tmp, 'decoder-adam-m.bin'), concat(decoder.adam.m));
    writeFloats(join(tmp, 'decoder-adam-v.bin'), concat(decoder.adam.v));
  }
  writeFloats(join(tmp, 'weights.bin'), concat(checkpoint.weights.values));
  writeFloats(join(tmp, 'adam-m.bin'), concat(checkpoint.adam.m));
  writeFloats(join(tmp, 'adam-v.bin'), concat(checkpoint.adam.v));
  writeFloats(join(tmp, 'replay-observations.bin'), checkpoint.replay.observations);
  writeFloats(join(tmp, 'replay-actions.bin'), checkpoint.replay.actions);
  writeFloats(join(tmp, 'replay-rewards.bin'), checkpoint.replay.rewards);
  writeFileSync(join(tmp, 'checkpoint.json'), `${JSON.stringify(manifest, replacer)}\n`);
  const final = join(dir, name);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  const latest = join(dir, PLANET_LATEST_FILE);
  const latestTmp = `${latest}.tmp-${process.pid}`;
  writeFileSync(latestTmp, `${JSON.stringify({ folder: name })}\n`);
  renameSync(latestTmp, latest);
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('checkpoint-') && entry !== name && !entry.includes('.tmp-')) {
      rmSync(join(dir, entry), { recursive: true, force: true });
    }
  }
  return final;
}

/**
 * Reads the latest checkpoint of a run's folder ({@link savePlanetCheckpoint}).
 *
 * @param dir The run's folder.
 * @returns The checkpoint, or `undefined` when the folder holds none.
 */
export function loadPlanetCheckpoint(dir: string): PlanetCheckpoint | undefined {
  const latest = join(dir, PLANET_LATEST_FILE);
  if (!existsSync(latest)) return undefined;
  checkEndianness();
  const pointer = JSON.parse(readFileSync(latest, 'utf8')) as { folder?: unknown };
  if (typeof pointer.folder !== 'string' || !pointer.folder.startsWith('checkpoint-')) {
    throw new Error(`${latest} does not name a checkpoint folder: ${describeValue(pointer.folder)}`);
  }
  const folder = join(dir, pointer.folder);
  const manifest = JSON.parse(readFileSync(join(folder, 'checkpoint.json'), 'utf8')) as Manifest;
  if (manifest.version !== PLANET_CHECKPOINT_VERSION) {
    throw new RangeError(
      `${folder} is a version ${describeValue(manifest.version)} checkpoint; this package reads version ${PLANET_CHECKPOINT_VERSION}`,
    );
  }
  const adamLengths = manifest.adam.lengths;
  return {
    version: manifest.version,
    settings: manifest.settings,
    counters: manifest.counters,
    history: reviveNumbers(manifest.history),
    weights: {
      names: manifest.weights.names,
      values: split(readFloats(join(folder, 'weights.bin')), manifest.weights.lengths, 'weights.bin'),
    },
    adam: {
      step: manifest.adam.step,
      m: split(readFloats(join(folder, 'adam-m.bin')), adamLengths, 'adam-m.bin'),
      v: split(readFloats(join(folder, 'adam-v.bin')), adamLengths, 'adam-v.bin'),
    },
    replay: {
      observationSize: manifest.replay.observationSize,
      actionSize: manifest.replay.actionSize,
      rows: manifest.replay.rows,
      observations: readFloats(join(folder, 'replay-observations.bin')),
      actions: readFloats(join(folder, 'replay-actions.bin')),
      rewards: readFloats(join(folder, 'replay-rewards.bin')),
    },
    ...(manifest.decoder === undefined
      ? {}
      : {
          decoder: {
            weights: split(readFloats(join(folder, 'decoder.bin')), manifest.decoder.lengths, 'decoder.bin'),
            adam: {
              step: manifest.decoder.adam.step,
              m: split(
                readFloats(join(folder, 'decoder-adam-m.bin')),
                manifest.decoder.lengths,
                'decoder-adam-m.bin',
              ),
              v: split(
                readFloats(join(folder, 'decoder-adam-v.bin')),
                manifest.decoder.lengths,
                'decoder-adam-v.bin',
              ),
            },
          },
        }),
  };
}
