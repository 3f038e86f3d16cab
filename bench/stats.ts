import os from 'node:os';
// Summaries of timing samples for the benchmarks: the nearest-rank percentile, and
// trials / p50 / p95 / min / max as BENCHMARKS.md reports them.
export const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

export const summary = (xs: number[]) => ({ trials: xs.length, p50: pct(xs, 50), p95: pct(xs, 95), min: Math.min(...xs), max: Math.max(...xs) });

/** A numeric command-line option `--name N`, or its default. */
export const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};

/** The machine a figure was measured on, as BENCHMARKS.md records it. */
export const machine = () => ({ nproc: os.cpus().length, node: process.version, cpu: os.cpus()[0]?.model.trim(), kernel: os.release() });
