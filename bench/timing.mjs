// Timing helpers shared by the benchmark scripts.
import { readFileSync, writeFileSync } from 'node:fs';

/** Median of a non-empty list (the mean of the two middle values for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall time of `fn()` in milliseconds. */
export function timed(fn) {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/**
 * The two timed closures of a benchmark configuration (`buildConfig` of
 * configs.mjs) on the tfjs namespace `tf`: the loss alone, and the loss with
 * its gradients to the configuration's parameters. Each reads one number back
 * so the work is not left queued, and frees what it made. A config that
 * brings `runners` ({ fwd, fwdBwd }, fwdBwd null for a forward-only one)
 * gets those.
 */
export function makeRunners(tf, cfg) {
  // Configs with their own runners (the PlaNet ones): fwdBwd may be null (forward only).
  if (cfg.runners !== undefined) return cfg.runners;
  const fwd = () => {
    const v = tf.tidy(() => cfg.loss(cfg.params).loss);
    v.dataSync();
    v.dispose();
  };
  const fwdBwd = () => {
    const out = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((...ps) => cfg.loss(ps).loss)(cfg.params);
      return [value, ...grads];
    });
    out[0].dataSync();
    tf.dispose(out);
  };
  return { fwd, fwdBwd };
}

/** Peak resident set size of this process (VmHWM), in bytes; null where /proc is missing. */
export function peakRss() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false where not allowed. */
export function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}
