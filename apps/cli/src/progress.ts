import { SingleBar } from 'cli-progress';

/** A progress bar on stderr, or nothing when the run is not interactive. */
export interface Progress {
  /** Advances to `value` and shows `fields` (for example the current loss). */
  update(value: number, fields?: Record<string, string>): void;
  /** Changes the total (for example once a preset's iteration count is known). */
  setTotal(total: number): void;
  /** Removes the bar. */
  stop(): void;
}

/**
 * Starts a progress bar of `total` steps labelled `label`; `fields` names the
 * extra values shown after the counter.
 */
export function startProgress(label: string, total: number, show: boolean, fields: string[] = []): Progress {
  if (!show) return { update() {}, setTotal() {}, stop() {} };
  const extra = fields.map((f) => ` ${f} {${f}}`).join('');
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {eta_formatted}${extra}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    undefined,
  );
  bar.start(total, 0, Object.fromEntries(fields.map((f) => [f, '-'])));
  return {
    update: (value, values) => bar.update(value, values ?? {}),
    setTotal: (value) => bar.setTotal(value),
    stop: () => bar.stop(),
  };
}
