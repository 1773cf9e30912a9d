import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { formatJobRecord, type JobRecord, type JobSpec, jobId, parseJobRecords } from '@dcem/tasks';

/**
 * A study's result file: JSONL, one record `{ id, spec, result }` per
 * finished job, each id once. Results are appended as jobs finish, so an
 * interrupted study resumes from it.
 */
export interface ResultStore {
  /** The file. */
  path: string;
  /** The records read or added, by id. */
  records: Map<string, JobRecord>;
  /** Adds a record (appended to the file) unless its id is there already; returns whether it was added. */
  add(spec: JobSpec, result: unknown): boolean;
  /** Rewrites the file with the records of `specs` first, in their order, then the others. */
  rewrite(specs: readonly JobSpec[]): void;
}

/** Opens (or creates on the first record) a study's result file. */
export function openResultStore(path: string): ResultStore {
  const records = existsSync(path) ? parseJobRecords(readFileSync(path, 'utf8')).records : new Map();
  return {
    path,
    records,
    add(spec, result) {
      const id = jobId(spec);
      if (records.has(id)) return false;
      const line = formatJobRecord(spec, result);
      appendFileSync(path, `${line}\n`);
      records.set(id, JSON.parse(line) as JobRecord);
      return true;
    },
    rewrite(specs) {
      const order = specs.map((s) => jobId(s));
      const ids = [...new Set([...order.filter((id) => records.has(id)), ...records.keys()])];
      const text = ids.map((id) => {
        const r = records.get(id) as JobRecord;
        return `${formatJobRecord(r.spec, r.result)}\n`;
      });
      writeFileSync(`${path}.tmp`, text.join(''));
      renameSync(`${path}.tmp`, path);
    },
  };
}
