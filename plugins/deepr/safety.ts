/**
 * Deep-R's safety hook (issue 17): core's consistency check ({@link applySafety}, core/imaging/
 * consistency.ts, shared with TSVA) on every plane of the network's output.
 */
import { throwIfAborted, withPlanes, type Stack } from '../../core/index.js';
import { applySafety, type SafetyOptions } from '../../core/imaging.js';

export const SAFETY_MODES = ['consistency', 'off'] as const;

/** {@link applySafety} on every plane of `output` against the same plane of `input` (cancellable between planes). */
export async function withSafety(input: Stack, output: Stack, options: SafetyOptions = {}, signal?: AbortSignal): Promise<Stack> {
  const planes: Float32Array[] = [];
  for (let i = 0; i < output.planes.length; i++) {
    // let a cancel (SIGINT) through between planes: the check is synchronous per plane
    await new Promise((resolve) => setImmediate(resolve));
    throwIfAborted(signal);
    planes.push(applySafety(input.planes[i], output.planes[i], input.width, input.height, options).image);
  }
  return withPlanes(output, planes);
}
