import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { integerFlag } from '../context.js';
import { showUrl } from '../jobs/redis.js';
import { startWorker } from '../jobs/worker.js';

interface WorkerFlags {
  queue: string;
  concurrency: number;
  workers?: number;
  state?: string;
  grace?: number;
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
  quiet: boolean;
}

/** `dcem worker`: runs the jobs that study commands enqueue with `--queue`. */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'run the jobs of studies started with --queue (planners, cartpole-embed, mujoco-study, planet, planet-compare), on this machine, ' +
        'until stopped; SIGTERM or Ctrl-C finishes the running jobs first (see docs/scaling.md)',
    )
    .requiredOption('--queue <url>', 'the Redis URL the studies use (redis://host:port)')
    .option(
      '--concurrency <n>',
      'jobs run at once, each on its own thread',
      integerFlag('--concurrency', 1),
      1,
    )
    .option(
      '--workers <n>',
      'rollout threads per MuJoCo job (default: cores / concurrency)',
      integerFlag('--workers', 1),
    )
    .option(
      '--state <dir>',
      'a folder for the checkpoints of long jobs (PlaNet runs), one subfolder per job; on a volume shared by all ' +
        'workers, a job retried on another machine resumes where it stopped (default: none, a retry starts again)',
    )
    .option(
      '--grace <seconds>',
      'on SIGTERM, wait this long for running jobs, then return them to the queue (default: wait until they end)',
      integerFlag('--grace', 0),
    )
    .option(
      '--lock-duration <ms>',
      "a job's lock (renewed every half of it)",
      integerFlag('--lock-duration', 100),
      30_000,
    )
    .option(
      '--stalled-interval <ms>',
      'how often to look for jobs of dead workers and return them to the queue',
      integerFlag('--stalled-interval', 100),
      30_000,
    )
    .option(
      '--max-stalled-count <n>',
      'times a job may be found abandoned before it fails',
      integerFlag('--max-stalled-count', 0),
      3,
    )
    .option('--quiet', 'print nothing but errors', false)
    .addHelpText(
      'after',
      '\nExamples:\n  $ pnpm dcem worker --queue redis://localhost:6379\n  $ pnpm dcem worker --queue redis://redis.example:6379 --concurrency 4 --workers 2\n  $ pnpm dcem worker --queue redis://redis.example:6379 --state /mnt/shared/dcem-state   # PlaNet runs resume anywhere',
    )
    .action(async (opts: WorkerFlags) => {
      const log = (line: string) => {
        if (!opts.quiet) console.log(`${new Date().toISOString()} ${line}`);
      };
      const workers = opts.workers ?? Math.max(1, Math.floor(availableParallelism() / opts.concurrency));
      const worker = await startWorker(opts.queue, {
        concurrency: opts.concurrency,
        workers,
        ...(opts.state !== undefined ? { state: opts.state } : {}),
        jobLogs: !opts.quiet,
        lockDuration: opts.lockDuration,
        stalledInterval: opts.stalledInterval,
        maxStalledCount: opts.maxStalledCount,
        log,
      });
      log(
        `worker ready on ${showUrl(opts.queue)}: concurrency ${opts.concurrency}, ${workers} rollout threads per MuJoCo job`,
      );
      let signals = 0;
      const stop = (signal: string) => {
        signals++;
        if (signals > 1) {
          log(`${signal} again: stopping now; the running jobs return to the queue when their locks expire`);
          process.exit(1);
        }
        log(
          `${signal}: finishing the running jobs${opts.grace !== undefined ? ` (at most ${opts.grace} s, then they return to the queue)` : ''}; ` +
            'send it again to stop at once',
        );
        void worker.stop(opts.grace === undefined ? undefined : opts.grace * 1000);
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      await worker.closed;
      log('worker stopped');
      process.exit(0);
    });
}
