// Asking for webgpu where no adapter can be had gives a typed error naming
// the reason. A navigator.gpu that finds no adapter stands in for a browser
// (or a machine) without a usable GPU.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';

const original = Object.getOwnPropertyDescriptor(globalThis, 'navigator');

function fakeNavigator(requestAdapter: () => Promise<unknown>): void {
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter } }, configurable: true });
}

afterAll(() => {
  if (original === undefined) Reflect.deleteProperty(globalThis, 'navigator');
  else Object.defineProperty(globalThis, 'navigator', original);
});

describe('webgpu without an adapter', () => {
  it('useBackend rejects with BackendUnavailableError naming the reason; selectBackend moves on', async () => {
    vi.resetModules();
    fakeNavigator(async () => null);
    const { BackendUnavailableError, selectBackend, useBackend } = await import('./select-backend.js');
    const error = await useBackend('webgpu').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error).toBeInstanceOf(Error);
    const e = error as InstanceType<typeof BackendUnavailableError>;
    expect(e.backend).toBe('webgpu');
    expect(e.reason).toBe('navigator.gpu: requestAdapter() gave no adapter');
    expect(e.message).toBe('cannot use the webgpu backend: navigator.gpu: requestAdapter() gave no adapter');
    const selection = await selectBackend({ prefer: ['webgpu', 'cpu'] });
    expect(selection.active).toBe('cpu');
    expect(selection.attempts[0]).toEqual({
      name: 'webgpu',
      ok: false,
      reason: 'navigator.gpu: requestAdapter() gave no adapter',
    });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('a requestAdapter that throws is reported with its message', async () => {
    vi.resetModules();
    fakeNavigator(async () => {
      throw new Error('WebGPU is disabled by policy');
    });
    const { useBackend } = await import('./select-backend.js');
    await expect(useBackend('webgpu')).rejects.toThrow(
      'cannot use the webgpu backend: navigator.gpu: requestAdapter() threw: WebGPU is disabled by policy',
    );
  });
});
