// The job block is written by the host (src/threads/pool.ts) and read by the
// kernels (assembly/gemm-simd.ts), two languages that cannot share a module: the
// slot numbers, operation codes and activation codes must agree.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS } from './gemm.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The `const NAME = integer;` declarations of a source file. */
function constants(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [, name, value] of readFileSync(path, 'utf8').matchAll(
    /^(?:export )?const ([A-Z_]+) = (\d+);$/gm,
  )) {
    out.set(name as string, Number(value));
  }
  return out;
}

describe('the gemm job layout', () => {
  const host = constants(join(here, 'pool.ts'));
  const kernels = constants(join(here, '..', '..', 'assembly', 'gemm-simd.ts'));
  const shared = [
    ...[
      'OP',
      'A',
      'B',
      'C',
      'BIAS',
      'M',
      'N',
      'K',
      'CHUNK',
      'PARTIALS',
      'COUNT',
      'ACT',
      'SLOPE',
      'COLSUMS',
      'STRIDE',
      'TEMPERATURE',
      'MAX_ITERATIONS',
      'WORK',
    ],
    ...[
      'OP_ROWS',
      'OP_TN',
      'OP_SUM',
      'OP_SCALE',
      'OP_NT',
      'OP_LML',
      'OP_LML_GRAD',
      'OP_GRU',
      'OP_GRU_GRAD',
      'OP_TN_SPLIT',
    ],
  ];

  it('has the same job slots and operation codes on both sides', () => {
    for (const name of shared) {
      expect(host.get(name), `host ${name}`).toBeTypeOf('number');
      expect(kernels.get(name), `kernels ${name}`).toBe(host.get(name));
    }
    // The control slots (below OP) are the host's and its workers' only.
    for (const name of ['GEN', 'NEXT', 'JOB', 'DONE', 'FAILED', 'READY', 'BY_WORKERS', 'STOP']) {
      expect(host.get(name) as number).toBeLessThan(host.get('OP') as number);
    }
  });

  it('has the same activation codes on both sides', () => {
    expect({
      linear: kernels.get('ACT_LINEAR'),
      relu: kernels.get('ACT_RELU'),
      softplus: kernels.get('ACT_SOFTPLUS'),
    }).toEqual({ ...ACTIVATIONS });
  });
});
