import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { closeNativeGate, nativeCall, nativeCallsBuffer } from './native-calls.js';

describe('native calls in a run thread (onnxruntime must not be interrupted by a terminate)', () => {
  it('without a shared buffer a call just runs', async () => {
    await expect(nativeCall(async () => 42)).resolves.toBe(42);
  });

  it('the host sees a call in flight in another thread, and once the gate is closed no call starts there', async () => {
    const buffer = nativeCallsBuffer();
    // (the thread imports the built module: npm test builds dist/ first)
    // a thread that shares the counters, starts a 300 ms "native" call, then tries a second one after the host closed the gate
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.module).then(async (m) => {
        m.shareNativeCalls(workerData.buffer);
        const first = m.nativeCall(() => new Promise((r) => setTimeout(() => r('first'), 300)));
        parentPort.postMessage('started');
        await new Promise((r) => parentPort.once('message', r)); // the host has closed the gate
        const second = await m.nativeCall(async () => 'second').then((v) => v, (e) => e.code);
        parentPort.postMessage([await first, second]);
      });`;
    const worker = new Worker(code, { eval: true, workerData: { buffer, module: new URL('../../dist/core/runtime/native-calls.js', import.meta.url).href } });
    const messages: unknown[] = [];
    const next = () => new Promise((r) => worker.once('message', (m) => { messages.push(m); r(m); }));
    try {
      await next(); // 'started': the first call is in flight
      expect(closeNativeGate(buffer)).toBe(true); // in flight: not safe to terminate yet
      worker.postMessage('gate closed');
      expect(await next()).toEqual(['first', 'E_CANCELLED']); // the running call finished; the new one was refused
      expect(closeNativeGate(buffer)).toBe(false); // nothing in flight: safe now
    } finally {
      await worker.terminate();
    }
  });
  it("onnxruntime-node's import is a native call: counted while it loads, refused once the gate is closed", async () => {
    // terminating a thread while the addon initialises aborted the process (SIGABRT), like a terminate during a session run
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      (async () => {
        const calls = await import(workerData.calls);
        const inference = await import(workerData.inference);
        const counters = new Int32Array(workerData.buffer);
        calls.shareNativeCalls(workerData.buffer);
        if (workerData.closeFirst) Atomics.store(counters, 1, 1);
        const loading = inference.loadOnnxRuntime();
        const whileLoading = Atomics.load(counters, 0);
        const result = await loading.then((ort) => typeof ort.InferenceSession.create, (e) => e.code);
        parentPort.postMessage([whileLoading, result, Atomics.load(counters, 0)]);
      })();`;
    const run = async (closeFirst: boolean): Promise<unknown> => {
      const buffer = nativeCallsBuffer();
      const worker = new Worker(code, {
        eval: true,
        workerData: {
          buffer,
          closeFirst,
          calls: new URL('../../dist/core/runtime/native-calls.js', import.meta.url).href,
          inference: new URL('../../dist/core/ml/inference.js', import.meta.url).href,
        },
      });
      try {
        return await new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
      } finally {
        await worker.terminate();
      }
    };
    expect(await run(false)).toEqual([1, 'function', 0]); // in flight while loading, done after
    expect(await run(true)).toEqual([0, 'E_CANCELLED', 0]); // the thread is stopping: not even started
  });
});
