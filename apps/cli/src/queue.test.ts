// Studies on BullMQ with a real redis-server (Debian's package; CI installs
// it): each test starts its own server on a free port, with no persistence,
// and `dcem worker` processes from the built CLI (dist/main.js).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type JobSpec, jobId, parseJobRecords } from '@dcem/tasks';
import { planetStudyJobs } from '@dcem/tasks/planet';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createContext } from './context.js';
import { runOnQueue } from './jobs/queue.js';
import { connectRedis, JOB_OPTIONS, QUEUE_NAME } from './jobs/redis.js';
import { JOBS } from './jobs/registry.js';
import { executeStudy } from './jobs/study.js';
import { runPlanetStudyCli } from './planet-study.js';
import { runPlanners } from './planners.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-queue-'));

/** Things to stop after each test (servers, workers), last started first. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts redis-server on a free port; fails (never skips) when it is not installed. */
async function startRedis(): Promise<string> {
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0) {
    throw new Error(
      'redis-server is not installed: the queue tests need a real Redis (Debian: apt-get install -y redis-server; .ci/run installs it)',
    );
  }
  const port = await freePort();
  const dir = tmp();
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  cleanups.push(async () => {
    server.kill('SIGTERM');
    await exited(server);
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      (await connectRedis(url, 1000)).disconnect();
      return url;
    } catch (error) {
      if (i > 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

interface WorkerProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output: () => string;
  /** Resolves when its output matches. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
}

/** Starts `dcem worker` with short lock and stall intervals (a dead worker's job returns within about 2 s). */
function startWorker(url: string, extra: string[] = []): WorkerProcess {
  const child = spawn(
    process.execPath,
    [MAIN, 'worker', '--queue', url, '--lock-duration', '1000', '--stalled-interval', '500', ...extra],
    { env: { ...process.env, DCEM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  });
  return {
    child,
    output: () => text,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = text.match(pattern);
          if (m !== null) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`worker output did not match ${pattern} within ${timeoutMs} ms:\n${text}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
  };
}

const probe = (value: number, ms: number): JobSpec => ({ kind: 'probe', version: 1, params: { value, ms } });

/** The queue's copy of a job (state, attempts). */
async function queuedJob(url: string, id: string) {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection });
  try {
    const job = await Job.fromId(queue, id);
    return { state: await job?.getState(), attemptsMade: job?.attemptsMade, failedReason: job?.failedReason };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** Adds a job as a study does, without waiting for it. */
async function enqueue(url: string, spec: JobSpec): Promise<void> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection });
  try {
    await queue.add(spec.kind, spec, { ...JOB_OPTIONS, jobId: jobId(spec) });
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** A result with its wall-clock fields removed (they differ from run to run). */
const withoutTimes = (text: string) => text.replace(/"seconds":[-0-9.e+]+/g, '"seconds":0');

describe('studies on a queue (BullMQ, real redis-server)', () => {
  it('a planners study on two worker processes gives, bit for bit, the results of a local run', async () => {
    const url = await startRedis();
    const workers = [startWorker(url), startWorker(url)];
    await Promise.all(workers.map((w) => w.waitFor(/worker ready/)));
    const settings = {
      planners: ['cem' as const, 'icem' as const],
      budgets: [30],
      tasks: ['pendulum' as const, 'cartpole' as const],
      seeds: 1,
      starts: 2,
      steps: 3,
      horizon: 4,
      seed: 3,
    };
    const queued = tmp();
    const local = tmp();
    const q = await runPlanners(
      await createContext({ backend: 'cpu', seed: 3, out: queued, quiet: true, json: false }),
      settings,
      url,
    );
    const l = await runPlanners(
      await createContext({ backend: 'cpu', seed: 3, out: local, quiet: true, json: false }),
      settings,
    );
    const strip = (cells: typeof q.cells) => cells.map(({ seconds, ...rest }) => rest);
    expect(q.cells).toHaveLength(4);
    expect(strip(q.cells)).toEqual(strip(l.cells)); // toEqual on numbers is Object.is: bit for bit
    const file = (dir: string) => withoutTimes(readFileSync(join(dir, 'planners-jobs.jsonl'), 'utf8'));
    expect(file(queued)).toBe(file(local));
    expect(readFileSync(join(queued, 'planners.md'), 'utf8')).toBe(
      readFileSync(join(local, 'planners.md'), 'utf8'),
    );
    // Between them the two workers completed each job once (which worker takes which is up to the queue:
    // on a loaded machine one of them may take all four before the other's threads are up). A worker logs
    // a job after the queue has it, so its last line may come a moment after the study has collected it.
    const completed = () =>
      workers.flatMap((w) =>
        [...w.output().matchAll(/completed (planner-cell-[0-9a-f]+)/g)].map((m) => m[1]),
      );
    for (const start = Date.now(); completed().length < 4 && Date.now() - start < 20_000; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const jobIds = file(queued)
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(completed().sort()).toEqual(jobIds.sort());
    // Run again: every job is found in the result file, nothing is queued.
    const again = await runPlanners(
      await createContext({ backend: 'cpu', seed: 3, out: queued, quiet: true, json: false }),
      settings,
      url,
    );
    expect(strip(again.cells)).toEqual(strip(q.cells));
    expect(readFileSync(join(queued, 'planners-jobs.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
  });

  it('a worker killed with SIGKILL mid-job: the job runs again elsewhere, each result is recorded once', async () => {
    const url = await startRedis();
    const victim = startWorker(url);
    const survivor = startWorker(url);
    await Promise.all([victim.waitFor(/worker ready/), survivor.waitFor(/worker ready/)]);
    const specs = [1, 2, 3, 4].map((v) => probe(v, 1000));
    const out = tmp();
    const ctx = await createContext({ backend: 'cpu', seed: 0, out, quiet: true, json: false });
    const study = executeStudy(ctx, {
      file: 'probe-jobs.jsonl',
      specs,
      queue: url,
      local: () => {
        throw new Error('runs on the queue');
      },
    });
    const [, killed] = await victim.waitFor(/started (probe-[0-9a-f]+)/);
    victim.child.kill('SIGKILL');
    const outcome = await study;
    expect(survivor.output()).toContain(`started ${killed}`); // picked up after its lock expired
    const expected = await Promise.all(specs.map((s) => JOBS.run(s)));
    expect(outcome.results).toEqual(expected);
    const parsed = parseJobRecords(readFileSync(outcome.file, 'utf8'));
    expect(parsed.duplicates).toBe(0);
    expect([...parsed.records.keys()].sort()).toEqual(specs.map((s) => jobId(s)).sort());
    expect(readFileSync(outcome.file, 'utf8').trim().split('\n')).toHaveLength(4);
  });

  it('Redis unreachable: an error that names the URL, within a bounded time', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const start = Date.now();
    await expect(connectRedis(url)).rejects.toThrow(`cannot reach Redis at ${url}`);
    await expect(runOnQueue(url, [probe(1, 0)])).rejects.toThrow(`cannot reach Redis at ${url}`);
    const cli = spawnSync(process.execPath, [MAIN, 'worker', '--queue', url], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain(`dcem: cannot reach Redis at ${url}`);
    expect(Date.now() - start).toBeLessThan(20_000);
    // A host that does not answer at all: the connect timeout bounds the wait.
    const silent = Date.now();
    await expect(connectRedis('redis://10.255.255.1:6379', 1500)).rejects.toThrow(
      'cannot reach Redis at redis://10.255.255.1:6379',
    );
    expect(Date.now() - silent).toBeLessThan(5000);
    await expect(connectRedis('http://localhost:6379')).rejects.toThrow(TypeError);
  });

  it('a malformed job specification fails at once with a typed error and is not retried', async () => {
    const url = await startRedis();
    const worker = startWorker(url);
    await worker.waitFor(/worker ready/);
    const bad: JobSpec = { kind: 'probe', version: 1, params: { value: 'seven', ms: 0 } };
    const unknown: JobSpec = { kind: 'no-such-kind', version: 1, params: {} };
    const outcome = await runOnQueue(url, [bad, unknown, probe(7, 0)]);
    expect(outcome.results.get(jobId(probe(7, 0)))).toEqual(await JOBS.run(probe(7, 0)));
    expect(outcome.failed.get(jobId(bad))).toMatch(
      /^malformed job specification \(TypeError\): params\.value must be a number, received "seven"/,
    );
    expect(outcome.failed.get(jobId(unknown))).toMatch(
      /^malformed job specification \(RangeError\): job spec\.kind must be one of .*probe/,
    );
    for (const spec of [bad, unknown]) {
      const job = await queuedJob(url, jobId(spec));
      expect(job).toMatchObject({ state: 'failed', attemptsMade: 1 }); // 3 attempts allowed, 1 made
    }
    // The study command reports the failed jobs by id and reason, after keeping the good results.
    const ctx = await createContext({ backend: 'cpu', seed: 0, out: tmp(), quiet: true, json: false });
    await expect(
      executeStudy(ctx, { file: 'bad.jsonl', specs: [bad, probe(7, 0)], queue: url, local: () => null }),
    ).rejects.toThrow(/1 of 2 jobs failed[\s\S]*probe-[0-9a-f]+: malformed job specification \(TypeError\)/);
  });

  it('a worker sent SIGTERM finishes its job, or with --grace returns it to the queue', async () => {
    const url = await startRedis();
    const first = startWorker(url);
    await first.waitFor(/worker ready/);
    const done = runOnQueue(url, [probe(11, 1500)]);
    await first.waitFor(/started probe-/);
    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);
    expect(first.output()).toMatch(/completed probe-[0-9a-f]+ in [\d.]+ s[\s\S]*worker stopped/);
    expect((await done).results.get(jobId(probe(11, 1500)))).toEqual(await JOBS.run(probe(11, 0)));

    const impatient = startWorker(url, ['--grace', '0']);
    await impatient.waitFor(/worker ready/);
    const spec = probe(12, 20_000);
    await enqueue(url, spec);
    await impatient.waitFor(/started probe-/);
    impatient.child.kill('SIGTERM');
    expect(await exited(impatient.child)).toBe(0);
    expect(impatient.output()).toContain(`returned ${jobId(spec)} to the queue`);
    expect(await queuedJob(url, jobId(spec))).toMatchObject({ state: 'waiting' });
  });
});

describe('PlaNet runs as jobs (real redis-server)', () => {
  it('a worker killed mid-run: the run resumes from the shared state folder on another worker, and equals a local run', async () => {
    const url = await startRedis();
    const state = tmp();
    const victim = startWorker(url, ['--state', state]);
    await victim.waitFor(/worker ready/);
    const settings = {
      env: 'cartpole-swingup' as const,
      episodes: 8,
      seedEpisodes: 1,
      steps: 6,
      updatesPerEpisode: 2,
      batchSize: 2,
      sequenceLength: 4,
      horizon: 3,
      samples: 10,
      elites: 2,
      iterations: 2,
      evaluateEvery: 2,
      model: { deterministic: 8, stochastic: 3, hidden: 8 },
    };
    const out = tmp();
    const ctx = await createContext({ backend: 'cpu', seed: 0, out, quiet: true, json: false });
    const study = runPlanetStudyCli(ctx, settings, { seeds: [7] }, url);
    // Killed as soon as its run has saved a checkpoint after its second episode (polling the state folder).
    const [id] = planetStudyJobs(settings, { seeds: [7] }, 'cpu').map((s) => jobId(s));
    const latest = join(state, id as string, 'latest-checkpoint.json');
    const saved = () => {
      try {
        const { folder } = JSON.parse(readFileSync(latest, 'utf8')) as { folder: string };
        return Number(folder.split('-')[1]); // checkpoint-<episodes>-<evaluations>
      } catch {
        return 0;
      }
    };
    for (const start = Date.now(); saved() < 2; ) {
      if (Date.now() - start > 60_000)
        throw new Error(
          `no checkpoint in ${latest}: ${JSON.stringify(readdirSync(state, { recursive: true }))}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    victim.child.kill('SIGKILL');
    const done = saved();
    expect(done).toBeLessThan(settings.episodes);
    const survivor = startWorker(url, ['--state', state]);
    const { runs } = await study;
    const resumed = survivor.output().match(new RegExp(`${id}: resuming after (\\d+) episodes`));
    expect(resumed, survivor.output()).not.toBeNull();
    expect(Number(resumed?.[1])).toBeGreaterThanOrEqual(done);
    const local = await JOBS.run(planetStudyJobs(settings, { seeds: [7] }, 'cpu')[0] as JobSpec);
    expect(runs[0]?.result).toEqual(local);
    expect(runs[0]?.result.counters.episodes).toBe(8);
    for (const name of [
      'planet-study.md',
      'planet-study.csv',
      'planet-study.json',
      'planet-study-curves.png',
    ]) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
  }, 120_000);
});
