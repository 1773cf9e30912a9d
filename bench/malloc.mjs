// glibc's malloc returns large freed blocks to the system and maps fresh
// pages on the next allocation; on small VMs each first touch of a page costs
// about 15 µs. A process that allocates a tensor-sized buffer per operation
// (PyTorch always; tfjs where it builds arrays in JavaScript, such as the
// ones of tf.sum's gradient) then spends more time in page faults than in
// arithmetic, and its timings swing by ×2 from run to run. 'keep' raises
// glibc's trim and mmap thresholds so freed memory stays with the process,
// as a caching allocator does. The benchmarks time both sides, ours and
// PyTorch, under the same setting; GLIBC_TUNABLES is read when a process
// starts, hence the re-execution.
import { spawnSync } from 'node:child_process';

/** The GLIBC_TUNABLES entries of 'keep'. */
export const MALLOC_KEEP = 'glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295';

/** The two settings: 'keep' (freed memory stays with the process) and glibc's 'default'. */
export const MALLOC_MODES = ['keep', 'default'];

/** The environment `env` with GLIBC_TUNABLES set for `mode` (other tunables are kept). */
export function mallocEnv(mode, env = process.env) {
  if (!MALLOC_MODES.includes(mode)) {
    throw new RangeError(
      `malloc must be one of ${MALLOC_MODES.join(', ')}, received ${JSON.stringify(mode)}`,
    );
  }
  const ours = MALLOC_KEEP.split(':');
  const parts = (env.GLIBC_TUNABLES ?? '').split(':').filter((t) => t !== '' && !ours.includes(t));
  if (mode === 'keep') parts.push(...ours);
  const out = { ...env };
  if (parts.length > 0) out.GLIBC_TUNABLES = parts.join(':');
  else delete out.GLIBC_TUNABLES;
  return out;
}

/** The setting this process runs under. */
export function currentMalloc() {
  const tunables = (process.env.GLIBC_TUNABLES ?? '').split(':');
  return MALLOC_KEEP.split(':').every((t) => tunables.includes(t)) ? 'keep' : 'default';
}

/**
 * Returns when this process already runs under `mode`; otherwise runs this
 * script again under it (same arguments, output passed through) and exits
 * with its status.
 */
export function runUnderMalloc(mode) {
  const env = mallocEnv(mode);
  if (currentMalloc() === mode) return;
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env,
    stdio: 'inherit',
  });
  if (r.error) throw r.error;
  process.exit(r.status ?? 1);
}
