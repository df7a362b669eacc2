import { createStack, defineOperation, FocalError, isFocalError, planeCount, planePosition, type Stack, throwIfAborted, z } from '../../../core/index.js';
import { defocusSeries } from '../../../core/imaging.js';
import { opticsFields } from './psf-born-wolf.js';

export const defocusParams = z
  .strictObject({
    ...opticsFields,
    pixelSizeUm: z.number().positive().max(1000).optional().describe('Pixel size, µm; default: the image\'s calibration (pixelWidthUm)'),
    defocusUm: z.number().min(-10000).max(10000).optional().describe('One defocus for every plane, µm (give this, or zStartUm/zEndUm/zStepUm)'),
    zStartUm: z.number().min(-10000).max(10000).optional().describe('First defocus of a simulated z-stack, µm'),
    zEndUm: z.number().min(-10000).max(10000).optional().describe('Last defocus of a simulated z-stack (inclusive when on the step grid), µm'),
    zStepUm: z.number().positive().max(10000).optional().describe('Defocus step of a simulated z-stack, µm'),
    tiltDeg: z.number().gt(-89).lt(89).default(0).describe('Planar sample tilt, degrees: adds tan(tilt)·distance from the image centre perpendicular to the tilt axis'),
    tiltAxisDeg: z.number().min(-360).max(360).default(0).describe('Tilt axis direction, degrees from +x towards +y (0: axis along x, defocus changes along y)'),
    binStepUm: z.number().positive().max(1000).default(0.1).describe('Defocus bin width for spatially varying defocus (tilt, height map), µm'),
    psfSizePx: z.number().int().positive().max(65535).optional().describe('PSF window, px (odd); default from the largest |defocus|'),
    oversampling: z.number().int().min(1).max(15).default(3).describe('PSF sub-samples per pixel along x and y'),
    photons: z.number().positive().max(1e12).optional().describe('Expected photo-electrons at the brightest in-focus input pixel; enables Poisson–Gaussian noise and makes the output photo-electrons'),
    readNoiseE: z.number().min(0).max(1e6).default(0).describe('Camera read noise, e⁻ rms (needs photons)'),
    backgroundPhotons: z.number().min(0).max(1e12).default(0).describe('Uniform background, expected e⁻ per pixel (needs photons)'),
    seed: z.number().int().min(-2147483648).max(4294967295).default(0).describe('Seed of the noise generator (same seed, same output)'),
    inputOffset: z.number().min(-3.4e38).max(3.4e38).default(0).describe('Dark level (camera offset) of the input, input units: subtracted before the simulation, values below it become 0'),
  })
  .superRefine((p, ctx) => {
    const problem = rangeProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
    if (p.na >= p.refractiveIndex) ctx.addIssue({ code: 'custom', path: ['na'], message: `na must be smaller than refractiveIndex (${p.refractiveIndex})` });
    if (p.psfSizePx !== undefined && p.psfSizePx % 2 === 0) ctx.addIssue({ code: 'custom', path: ['psfSizePx'], message: 'psfSizePx must be odd' });
    for (const f of ['readNoiseE', 'backgroundPhotons'] as const) {
      if ((p[f] ?? 0) > 0 && p.photons === undefined) ctx.addIssue({ code: 'custom', path: [f], message: `${f} needs photons` });
    }
  });

type DefocusParams = z.output<typeof defocusParams>;

function rangeProblem(p: Pick<DefocusParams, 'defocusUm' | 'zStartUm' | 'zEndUm' | 'zStepUm'>): { field: string; message: string } | null {
  const range = [p.zStartUm, p.zEndUm, p.zStepUm];
  const some = range.some((v) => v !== undefined);
  if (some && range.some((v) => v === undefined)) return { field: 'zStartUm', message: 'a z-stack needs all of zStartUm, zEndUm and zStepUm' };
  if (some === (p.defocusUm !== undefined)) return { field: 'defocusUm', message: 'give exactly one of defocusUm and the z range (zStartUm, zEndUm, zStepUm)' };
  if (some && p.zEndUm! < p.zStartUm!) return { field: 'zEndUm', message: 'zEndUm must be ≥ zStartUm' };
  if (some && (p.zEndUm! - p.zStartUm!) / p.zStepUm! > 10000) return { field: 'zStepUm', message: 'the z range has more than 10 000 planes' };
  return null;
}

/** Defocus values of the z range: zStart + i·zStep for i = 0… while ≤ zEnd (+1e-9 tolerance). */
export function zValues(zStartUm: number, zEndUm: number, zStepUm: number): number[] {
  const n = Math.floor((zEndUm - zStartUm) / zStepUm + 1e-9) + 1;
  return Array.from({ length: n }, (_, i) => Math.round((zStartUm + i * zStepUm) * 1e9) / 1e9);
}

export const defocusOp = defineOperation({
  id: 'optics.defocus',
  title: 'Simulate defocus',
  description:
    'Blurs in-focus planes with the Born & Wolf PSF of a uniform, tilted or height-map defocus (FFT, mirror boundaries, energy conserving) and optionally adds Poisson–Gaussian camera noise (output then in photo-electrons).',
  inputs: {
    stack: { type: 'stack', description: 'In-focus image(s); with a z range each plane must be a single z slice (sizeZ = 1)' },
    heightMap: { type: 'image', optional: true, description: 'Sample height, µm per pixel (same size as the image), added to the defocus' },
  },
  outputs: { stack: { type: 'stack', description: 'float32: the defocused planes (defocusUm), or a z-stack per input plane (z range); photo-electrons when photons is set, else input units' } },
  params: defocusParams,
  run(ctx, { stack, heightMap }, params) {
    const cal = stack.calibration;
    const pixelSizeUm = params.pixelSizeUm ?? cal.pixelWidthUm ?? cal.pixelHeightUm;
    if (pixelSizeUm === undefined) {
      throw new FocalError('E_PARAMS', 'pixelSizeUm: the image has no pixel size calibration; give pixelSizeUm', { field: 'pixelSizeUm' });
    }
    if (params.pixelSizeUm === undefined && cal.pixelWidthUm !== undefined && cal.pixelHeightUm !== undefined && Math.abs(cal.pixelWidthUm - cal.pixelHeightUm) > 0.01 * cal.pixelWidthUm) {
      throw new FocalError('E_PARAMS', `pixelSizeUm: anisotropic pixels (${cal.pixelWidthUm} × ${cal.pixelHeightUm} µm) are not supported; resample first or give pixelSizeUm`, { field: 'pixelSizeUm' });
    }
    if (heightMap && (heightMap.width !== stack.width || heightMap.height !== stack.height)) {
      throw new FocalError('E_PORT', `heightMap is ${heightMap.width}×${heightMap.height}, the image is ${stack.width}×${stack.height}`, { field: 'heightMap' });
    }
    const isRange = params.defocusUm === undefined;
    if (isRange && stack.sizeZ !== 1) {
      throw new FocalError('E_PORT', `a z range makes a z-stack from each in-focus plane, but the input already has ${stack.sizeZ} z slices; select one with stack.substack`, { field: 'stack' });
    }
    const values = isRange ? zValues(params.zStartUm!, params.zEndUm!, params.zStepUm!) : [params.defocusUm!];
    const nIn = planeCount(stack);
    const total = nIn * values.length;
    const out: Float32Array[] = new Array(total);
    let done = 0;
    const electronsPerUnit: number[] = [];
    for (let i = 0; i < nIn; i++) {
      throwIfAborted(ctx.signal);
      const { c, z: zi, t } = planePosition(stack, i);
      const source = stack.planes[i];
      let plane: ArrayLike<number> = source;
      if (params.inputOffset !== 0) {
        const shifted = new Float32Array(source.length);
        for (let k = 0; k < source.length; k++) shifted[k] = Math.max(0, source[k] - params.inputOffset);
        plane = shifted;
      }
      let series;
      try {
        series = defocusSeries(plane, stack.width, stack.height, {
          na: params.na,
          refractiveIndex: params.refractiveIndex,
          wavelengthUm: params.wavelengthUm,
          pixelSizeUm,
          defocusUm: values,
          tiltDeg: params.tiltDeg,
          tiltAxisDeg: params.tiltAxisDeg,
          heightMapUm: heightMap?.data,
          binStepUm: params.binStepUm,
          psfSizePx: params.psfSizePx,
          oversampling: params.oversampling,
          photons: params.photons,
          readNoiseE: params.readNoiseE,
          backgroundPhotons: params.backgroundPhotons,
          seed: params.seed,
          noiseStream: i * values.length,
          onPlane: () => {
            done++;
            ctx.progress(done / total);
            throwIfAborted(ctx.signal);
          },
        });
      } catch (e) {
        if (isFocalError(e) && e.code === 'E_ARGUMENT') {
          const field = e.details.field === 'heightMapUm' ? 'heightMap' : e.details.field;
          throw new FocalError(field === 'image' || field === 'heightMap' ? 'E_PORT' : 'E_PARAMS', `plane ${i}: ${e.message}`, { field }, { cause: e });
        }
        throw e;
      }
      electronsPerUnit.push(series[0].electronsPerUnit);
      series.forEach((p, k) => {
        // output XYCZT order: in range mode z = k (input sizeZ = 1), else the input's z
        const zOut = isRange ? k : zi;
        const sizeZ = isRange ? values.length : stack.sizeZ;
        out[c + zOut * stack.sizeC + t * stack.sizeC * sizeZ] = p.image;
      });
    }
    const sizeZ = isRange ? values.length : stack.sizeZ;
    const calibration = { ...cal, pixelWidthUm: pixelSizeUm, pixelHeightUm: pixelSizeUm, ...(isRange && values.length > 1 ? { zStepUm: params.zStepUm! } : {}) };
    const result: Stack = createStack({
      width: stack.width,
      height: stack.height,
      dtype: 'float32',
      sizeC: stack.sizeC,
      sizeZ,
      sizeT: stack.sizeT,
      planes: out,
      calibration,
      channelNames: stack.channelNames,
      metadata: {
        ...stack.metadata,
        defocus: {
          model: 'born-wolf',
          na: params.na,
          refractiveIndex: params.refractiveIndex,
          wavelengthUm: params.wavelengthUm,
          defocusUm: values,
          tiltDeg: params.tiltDeg,
          tiltAxisDeg: params.tiltAxisDeg,
          heightMap: heightMap !== undefined,
          inputOffset: params.inputOffset,
          units: params.photons === undefined ? 'input' : 'photo-electrons',
          ...(params.photons !== undefined ? { photons: params.photons, readNoiseE: params.readNoiseE, backgroundPhotons: params.backgroundPhotons, seed: params.seed, electronsPerInputUnit: electronsPerUnit } : {}),
        },
      },
    });
    return { stack: result };
  },
});
