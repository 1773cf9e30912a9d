import { backendConformanceCases, type ConformanceContext } from '@dcem/core/testing';
import { describe, expect, it } from 'vitest';
import { createJaxBackend, type Tensor } from './backend.js';

const backend = createJaxBackend();
const CONTEXT: ConformanceContext<Tensor> = {
  tolerance: 1e-5,
  grad: backend.grad,
};

describe(`conformance of ${backend.name}`, () => {
  for (const c of backendConformanceCases) {
    it(`${c.kind}: ${c.name}`, async () => {
      const before = backend.liveArrays();
      // Some cases are asynchronous (read): tidyAsync releases what they make after their awaits too.
      await backend.tidyAsync(async () => {
        await c.run(backend, CONTEXT);
        return undefined;
      });
      expect(backend.liveArrays()).toBe(before);
    });
  }
});
