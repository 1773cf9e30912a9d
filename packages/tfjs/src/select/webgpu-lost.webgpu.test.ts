// A lost WebGPU device is reported, not waited on: reads throw
// WebGpuDeviceLostError (sync and async) and webGpuDeviceLost() says why.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from './select-backend.js';
import { WebGpuDeviceLostError, webGpuDeviceLost } from './webgpu.js';

describe('a lost WebGPU device', () => {
  it('makes reads throw at once instead of hanging', async () => {
    await useBackend('webgpu');
    const x = tf.square(tf.tensor1d([1, 2, 3]));
    expect(Array.from(x.dataSync())).toEqual([1, 4, 9]);
    expect(webGpuDeviceLost()).toBeUndefined();

    (tf.backend() as unknown as { device: { destroy(): void } }).device.destroy();
    const y = tf.square(tf.tensor1d([4, 5]));
    const start = Date.now();
    expect(() => y.dataSync()).toThrow(WebGpuDeviceLostError);
    expect(Date.now() - start).toBeLessThan(10_000);

    const z = tf.square(tf.tensor1d([6, 7]));
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the read hung')), 20_000));
    await expect(Promise.race([z.data(), timeout])).rejects.toThrow(WebGpuDeviceLostError);
    expect(webGpuDeviceLost()).toMatch(/^destroyed/);
    expect(() => x.dataSync()).not.toThrow(); // values read before the loss stay on the host
  });
});
