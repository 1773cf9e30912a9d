import { type JobSpec, jobId } from '@dcem/tasks';
import type { RunContext } from '../context.js';
import { startProgress } from '../progress.js';
import { runOnQueue } from './queue.js';
import { showUrl } from './redis.js';
import { openResultStore, type ResultStore } from './store.js';

/** How a study's jobs run: {@link executeStudy}'s options. */
export interface StudyExecution {
  /** The result file's name in the output folder (JSONL, one record per job). */
  file: string;
  /** The study's jobs, in its order. */
  specs: readonly JobSpec[];
  /** A Redis URL: enqueue the jobs there for `dcem worker`s, instead of running them here. */
  queue?: string;
  /** Runs one job here, with the study's own progress display (the default, without `queue`). */
  local: (spec: JobSpec, index: number, count: number) => unknown | Promise<unknown>;
  /** Records already made in an older format, to add to the store first. */
  legacy?: (store: ResultStore) => void;
}

/** What {@link executeStudy} returns. */
export interface StudyOutcome {
  /** Each spec's result, in the order of the specs. */
  results: unknown[];
  /** Ids of the jobs run now (not found in the result file). */
  ran: Set<string>;
  /** The result file. */
  file: string;
}

/**
 * Runs a study's jobs here (one after the other) or on a queue, skipping
 * those already in its result file, and appends every new result to it
 * (each id once). Results come back through JSON either way, so a local run
 * and a queued one give the same numbers.
 *
 * @throws Error naming the jobs that failed for good (their results are
 *   missing; the others are in the file, so running again resumes).
 */
export async function executeStudy(ctx: RunContext, e: StudyExecution): Promise<StudyOutcome> {
  const store = openResultStore(ctx.outPath(e.file));
  e.legacy?.(store);
  const ids = e.specs.map((s) => jobId(s));
  const todo = e.specs.filter((_s, i) => !store.records.has(ids[i] as string));
  const unique = new Map(todo.map((s) => [jobId(s), s]));
  const ran = new Set(unique.keys());
  const found = e.specs.length - todo.length;
  if (found > 0) ctx.log(`resuming: ${found} of ${e.specs.length} jobs found in ${store.path}`);
  if (e.queue === undefined) {
    let index = 0;
    for (const spec of unique.values()) {
      const result = await e.local(spec, index++, unique.size);
      store.add(spec, result);
    }
  } else if (unique.size > 0) {
    ctx.log(
      `queued ${unique.size} jobs on ${showUrl(e.queue)}; run \`dcem worker --queue ${showUrl(e.queue)}\` on any machine`,
    );
    const bar = startProgress('jobs', unique.size, ctx.interactive, ['running']);
    let outcome: Awaited<ReturnType<typeof runOnQueue>>;
    try {
      outcome = await runOnQueue(e.queue, [...unique.values()], {
        onResult: (_id, spec, result) => {
          store.add(spec, result);
        },
        onProgress: (p) => {
          const running = [...p.running.values()].map((f) => `${Math.round(100 * f)}%`);
          bar.update(p.done, {
            running: running.length === 0 ? '-' : `${running.length} (${running.join(' ')})`,
          });
        },
      });
    } finally {
      bar.stop();
    }
    if (outcome.failed.size > 0) {
      store.rewrite(e.specs);
      const lines = [...outcome.failed].map(([id, reason]) => `  ${id}: ${reason}`);
      throw new Error(
        `${outcome.failed.size} of ${unique.size} jobs failed (the ${store.records.size} results so far are in ${store.path}; ` +
          `run again to retry the failed ones):\n${lines.join('\n')}`,
      );
    }
  }
  store.rewrite(e.specs);
  return {
    results: ids.map((id) => store.records.get(id)?.result),
    ran,
    file: store.path,
  };
}
