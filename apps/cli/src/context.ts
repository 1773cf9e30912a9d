import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BACKEND_ORDER, type BackendName, selectBackend, useBackend } from '@dcem/tfjs';
import { type Command, InvalidArgumentError, Option } from 'commander';

/** The flags every subcommand takes. */
export interface CommonOptions {
  backend?: BackendName;
  seed: number;
  out: string;
  quiet: boolean;
  json: boolean;
}

/** What a subcommand gets to talk to the user and write its results. */
export interface RunContext {
  /** The options as parsed. */
  options: CommonOptions;
  /** The tfjs backend that runs. */
  backend: string;
  /** Prints a line for people (nothing with --quiet or --json). */
  log: (line: string) => void;
  /** Whether progress bars may be drawn (not with --quiet or --json). */
  interactive: boolean;
  /** Absolute path of a file in the output folder (created on first use). */
  outPath: (name: string) => string;
  /** Writes a JSON file into the output folder and returns its path. */
  writeJson: (name: string, value: unknown) => string;
}

/** Parses an integer flag, with a one-line error naming the flag. */
export function integerFlag(flag: string, min = Number.NEGATIVE_INFINITY) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n)) {
      throw new InvalidArgumentError(`${flag} must be an integer, received "${value}"`);
    }
    if (n < min) throw new InvalidArgumentError(`${flag} must be ≥ ${min}, received ${n}`);
    return n;
  };
}

/** Splits a comma list and checks every entry against `valid`. */
export function listFlag<T extends string>(flag: string, valid: readonly T[]) {
  return (value: string): T[] => {
    const items = value.split(',').map((v) => v.trim());
    for (const item of items) {
      if (!(valid as readonly string[]).includes(item)) {
        throw new InvalidArgumentError(`${flag}: "${item}" is not one of ${valid.join(', ')}`);
      }
    }
    return items as T[];
  };
}

/** Parses a comma list of integers (`--seeds 0,1,2`), with a one-line error naming the flag and the entry. */
export function integerListFlag(flag: string, min = Number.NEGATIVE_INFINITY) {
  const one = integerFlag(flag, min);
  return (value: string): number[] => value.split(',').map((v) => one(v.trim()));
}

/** Parses a number flag, with a one-line error naming the flag. */
export function numberFlag(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) {
      throw new InvalidArgumentError(`${flag} must be a number, received "${value}"`);
    }
    return n;
  };
}

/**
 * Parses a temperature flag (`--temperature`, `--table-temperatures`): a number > 0, or
 * `none` for vanilla CEM (no temperature). `0` is an error that says to
 * write `none`, as `temperature: 0` is in the libraries.
 */
export function temperatureFlag(flag: string) {
  return (value: string): number | null => {
    const text = value.trim();
    if (text === 'none') return null;
    const n = Number(text);
    if (text !== '' && n === 0) {
      throw new InvalidArgumentError(
        `${flag} 0 is not a temperature: write ${flag} none for vanilla CEM (no temperature), or a number > 0 for DCEM`,
      );
    }
    if (text === '' || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(
        `${flag} must be a number > 0 or "none" (vanilla CEM), received "${value}"`,
      );
    }
    return n;
  };
}

/** Adds --backend, --seed, --out, --quiet and --json to a subcommand. */
export function withCommonOptions(command: Command, defaultOut: string): Command {
  return command
    .addOption(
      new Option('--backend <name>', 'tfjs backend (default: the fastest installed)').choices([
        ...BACKEND_ORDER,
      ]),
    )
    .option('--seed <n>', 'random seed', integerFlag('--seed'), 0)
    .option('--out <dir>', 'folder for CSV/JSON/PNG results', defaultOut)
    .option('--quiet', 'print nothing but errors', false)
    .option('--json', 'print the result as JSON on stdout (nothing else)', false);
}

/** Activates the backend and builds the run context of a subcommand. */
export async function createContext(options: CommonOptions): Promise<RunContext> {
  const talk = !options.quiet && !options.json;
  const log = (line: string) => {
    if (talk) console.log(line);
  };
  let backend: string;
  if (options.backend !== undefined) {
    await useBackend(options.backend);
    backend = options.backend;
    log(`tfjs backend: ${backend} (chosen with --backend)`);
  } else {
    const selection = await selectBackend();
    backend = selection.active;
    log(selection.message);
  }
  const out = resolve(options.out);
  const outPath = (name: string) => {
    mkdirSync(out, { recursive: true });
    return join(out, name);
  };
  return {
    options,
    backend,
    log,
    interactive: talk,
    outPath,
    writeJson: (name, value) => {
      const path = outPath(name);
      writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
      return path;
    },
  };
}

/**
 * Reports a finished run: with `--json`, prints `{ backend, ...shown }` as one
 * line on stdout; then logs the files written (silent with `--quiet` or `--json`).
 *
 * @param ctx The run context.
 * @param files The files the run wrote.
 * @param shown What `--json` prints besides the backend.
 */
export function reportResult(ctx: RunContext, files: readonly string[], shown: object): void {
  if (ctx.options.json) console.log(JSON.stringify({ backend: ctx.backend, ...shown }));
  ctx.log(`results: ${files.join(', ')}`);
}

/** Adds `--queue <url>` to a study command: enqueue its jobs on Redis for `dcem worker`s instead of running them here. */
export function withQueueOption(command: Command): Command {
  return command.option(
    '--queue <url>',
    'enqueue the jobs on Redis (redis://host:port) for `dcem worker`s instead of running them here; waits for them, then writes the same files',
  );
}
