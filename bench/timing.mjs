// Timing helpers shared by the benchmark scripts.

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
