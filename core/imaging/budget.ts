import { FocalError } from '../errors.js';
import { defaultReadBudget } from '../io/tiff/read.js';

/**
 * Most bytes an optics op may allocate because of its params (PSF windows): half the
 * machine's memory, at most 8 GiB. A PSF that needs more is a typo, not an experiment
 * (a 65-px Born–Wolf PSF is ~17 kB per plane; 8 GiB is a ~23 000² float32 window).
 */
export function paramAllocationBudget(): number {
  return Math.min(defaultReadBudget(), 8 * 2 ** 30);
}

/**
 * Throws E_PARAMS naming `field` when `bytes` (an estimate made before anything is
 * allocated) exceeds the budget, instead of a raw RangeError or an out-of-memory crash.
 */
export function assertParamAllocation(field: string, bytes: number, what: string, budget = paramAllocationBudget()): void {
  if (!(bytes <= budget)) {
    const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;
    throw new FocalError('E_PARAMS', `${field}: ${what} would need about ${gib(bytes)} of memory, more than the budget of ${gib(budget)}`, { field, bytes, budget });
  }
}
