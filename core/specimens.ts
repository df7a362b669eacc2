/**
 * Focal's specimen library, `focal/specimens` (core/specimens/index.ts lists it): randomised
 * fluorescence and layered H&E brightfield specimens for training and testing the learned
 * methods, and the small synthetic specimens operation tests use. A public entry of its own,
 * beside `focal` (core/index.ts), so that a run that simulates nothing never loads it.
 */
export * from './specimens/index.js';
export { texturedSpecimen, curvedSurface, gaussianDefocusStack } from './testing/synthetic-specimen.js';
