import { Redis } from 'ioredis';

/** The BullMQ queue every study and worker uses (one Redis can serve many studies: ids are hashes of the jobs). */
export const QUEUE_NAME = 'dcem-jobs';

/** How long to wait for Redis at start before failing with an error that names the URL. */
export const CONNECT_TIMEOUT_MS = 5000;

/** Checks a `--queue` value: a `redis://` or `rediss://` URL. */
export function checkQueueUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`--queue must be a Redis URL such as redis://localhost:6379, received "${url}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TypeError(`--queue must be a redis:// or rediss:// URL, received "${url}"`);
  }
  return url;
}

/** The URL without its password, for messages. */
export function showUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Connects to Redis, or fails within `timeoutMs` with an error naming the URL
 * (never a hang): one attempt, no retries. The connection then reconnects by
 * itself if Redis goes away (BullMQ waits for it).
 */
export async function connectRedis(url: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Redis> {
  checkQueueUrl(url);
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on('error', () => {}); // reported below
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await probe.connect();
        await probe.ping();
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    probe.disconnect();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot reach Redis at ${showUrl(url)}: ${reason} (start redis-server there, or run without --queue; see docs/scaling.md)`,
    );
  } finally {
    clearTimeout(timer);
  }
  probe.disconnect();
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  connection.on('error', () => {}); // ioredis reconnects; BullMQ reports lasting failures
  return connection;
}

/** Retries and retention of the jobs a study adds. */
export const JOB_OPTIONS = Object.freeze({
  attempts: 3,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
});
