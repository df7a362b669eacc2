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
});
