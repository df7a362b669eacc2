/**
 * Native calls in flight in this thread: onnxruntime-node's import, session create, run and release.
 * A worker thread terminated while one is in flight takes the whole process down
 * (onnxruntime-node throws a Napi::Error into the dying thread: `terminate called …`, SIGABRT,
 * and the run's clean-up never happens). So the isolated-run host (isolated-run.ts) shares two
 * counters with its run thread through a SharedArrayBuffer: slot 0 counts the calls in flight,
 * slot 1 is a gate the host closes before it terminates the thread. A call first counts itself,
 * then checks the gate (sequentially consistent atomics), so once the host has closed the gate
 * and read slot 0 as zero, no native call can be running or start. Without a shared buffer (the
 * main thread, tests, other workers) calls just run. Thread-level runtime state, set once by the
 * run thread's entry.
 */
import { FocalError } from '../errors.js';

/** Slots of the shared Int32Array. */
const IN_FLIGHT = 0;
const GATE = 1;

let shared: Int32Array | undefined;

/** A buffer for {@link shareNativeCalls} (host side): two Int32 slots. */
export function nativeCallsBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

/** Run-thread side: counts this thread's native calls in `buffer` from now on. */
export function shareNativeCalls(buffer: SharedArrayBuffer): void {
  shared = new Int32Array(buffer);
}

/**
 * Runs a native call (an onnxruntime promise) counted in the shared buffer, if any.
 * @throws FocalError `E_CANCELLED` when the host has closed the gate (the thread is being stopped).
 */
export async function nativeCall<T>(call: () => Promise<T>): Promise<T> {
  const c = shared;
  if (!c) return call();
  Atomics.add(c, IN_FLIGHT, 1);
  if (Atomics.load(c, GATE) !== 0) {
    Atomics.sub(c, IN_FLIGHT, 1);
    throw new FocalError('E_CANCELLED', 'cancelled: the run thread is stopping');
  }
  try {
    return await call();
  } finally {
    Atomics.sub(c, IN_FLIGHT, 1);
  }
}

/**
 * Host side: closes the gate (no native call starts any more) and tells whether one is still in
 * flight. Once it says false the thread can be terminated safely.
 */
export function closeNativeGate(buffer: SharedArrayBuffer): boolean {
  const c = new Int32Array(buffer);
  Atomics.store(c, GATE, 1);
  return Atomics.load(c, IN_FLIGHT) > 0;
}
