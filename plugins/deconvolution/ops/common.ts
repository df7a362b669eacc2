import {
  COMPUTE_SERVICE, FocalError, createTable, planeCount, planeIndex, throwIfAborted, withPlanes, z,
  isStack, type Cell, type ComputeService, type OpContext, type PixelArray, type Stack, type Table, type TilingPlan,
} from '../../../core/index.js';
import { BOUNDARIES, TILE_MARGIN_FACTOR } from '../engine.js';
import { landweber, richardsonLucy, type AlgorithmKind, type DeconvolutionResult } from '../deconvolve.js';
import { landweberInWorkers, parallelStrips, richardsonLucyInWorkers } from '../parallel.js';

export const commonFields = {
  iterations: z.number().int().min(1).max(10000).default(50).describe('Number of iterations (1…10 000)'),
  boundary: z
    .enum(BOUNDARIES as unknown as ['reflect-taper', 'zero'])
    .default('reflect-taper')
    .describe("Edge handling: 'reflect-taper' (mirrored neighbours blended into the mean; no edge artefacts) or 'zero' (zero padding, as scikit-image's richardson_lucy)"),
  memoryBudgetMb: z
    .number()
    .positive()
    .max(1048576)
    .default(1024)
    .describe('Working-set budget of one FFT box, MiB; larger images are processed in overlapping tiles (results equal the untiled run to ~1e-4 of the peak)'),
};

/** The parameters both algorithms share, as the executor hands them over (parsed, defaults filled). */
export type CommonParams = z.output<z.ZodObject<typeof commonFields>>;

export const commonInputs = {
  image: { type: 'stack', description: 'Image or hyperstack to deconvolve (any pixel type; each channel/frame separately)' },
  psf: {
    type: 'stack',
    description: 'PSF (normalised to unit sum here): one plane = 2D deconvolution of every plane; several z planes = 3D deconvolution of each z-stack. One channel, or one per image channel; one frame.',
  },
  reference: { type: 'stack', optional: true, description: 'Ground truth of the same size as image: PSNR and SSIM after every iteration go to stats' },
} as const;

export const commonOutputs = {
  image: { type: 'stack', description: 'Deconvolved hyperstack, float32, same geometry and calibration' },
  stats: { type: 'table', optional: true, description: 'Present when reference is connected: iteration, psnr, ssim per iteration (with c, z, t when there are several volumes)' },
} as const;

/** The host's compute service, or undefined where none is registered (e.g. a bare test context). */
function computeService(ctx: OpContext): ComputeService | undefined {
  try {
    return ctx.services.resolve(COMPUTE_SERVICE);
  } catch {
    return undefined;
  }
}

/**
 * Runs RL or Landweber on every volume of the image: each plane (2D PSF) or each (c, t)
 * z-stack (3D PSF). Without a reference, with more than one thread, the default boundary
 * and planes of at least PARALLEL_MIN_PLANE_PX px, each volume is cut into strips run on
 * the host's worker pool (progress from inside the workers, per iteration of each strip);
 * otherwise it runs on this thread with progress per iteration and stats when a reference
 * is connected. Progress is monotonic and ends at 1.
 */
export async function deconvolveStack(
  ctx: OpContext,
  inputs: { image: Stack; psf: Stack; reference?: Stack },
  params: CommonParams,
  kind: AlgorithmKind,
  extra: Record<string, unknown>,
): Promise<{ image: Stack; stats?: Table }> {
  const { image, psf, reference } = inputs;
  if (psf.sizeT !== 1) throw new FocalError('E_PORT', `psf: must have one frame, got ${psf.sizeT}`, { field: 'psf' });
  if (psf.sizeC !== 1 && psf.sizeC !== image.sizeC) {
    throw new FocalError('E_PORT', `psf: has ${psf.sizeC} channels; give one, or one per image channel (${image.sizeC})`, { field: 'psf' });
  }
  if (psf.rgb || image.rgb) throw new FocalError('E_PORT', `${image.rgb ? 'image' : 'psf'}: RGB colour cannot be deconvolved; split the channels first`, { field: image.rgb ? 'image' : 'psf' });
  if (reference) {
    const same = reference.width === image.width && reference.height === image.height && reference.sizeC === image.sizeC && reference.sizeZ === image.sizeZ && reference.sizeT === image.sizeT;
    if (!same) {
      throw new FocalError(
        'E_PORT',
        `reference: must have the image's size (${image.width}×${image.height}, c=${image.sizeC} z=${image.sizeZ} t=${image.sizeT}), got ${reference.width}×${reference.height}, c=${reference.sizeC} z=${reference.sizeZ} t=${reference.sizeT}`,
        { field: 'reference' },
      );
    }
  }
  const is3d = psf.sizeZ > 1;
  const W = image.width;
  const H = image.height;
  const plane = W * H;
  const out: PixelArray[] = new Array(planeCount(image));
  const volumes: { c: number; t: number; z: number[] }[] = [];
  for (let t = 0; t < image.sizeT; t++) {
    for (let c = 0; c < image.sizeC; c++) {
      if (is3d) volumes.push({ c, t, z: Array.from({ length: image.sizeZ }, (_, k) => k) });
      else for (let zz = 0; zz < image.sizeZ; zz++) volumes.push({ c, t, z: [zz] });
    }
  }
  const columns = volumes.length > 1 ? (is3d ? ['c', 't', 'iteration', 'psnr', 'ssim'] : ['c', 'z', 't', 'iteration', 'psnr', 'ssim']) : ['iteration', 'psnr', 'ssim'];
  const rows: Record<string, Cell>[] = [];
  const total = volumes.length * params.iterations;
  // strips on worker threads: not with a reference (stats need every iteration's whole
  // estimate) nor with zero padding (kept exact, it exists to compare with scikit-image)
  const compute = reference || params.boundary !== 'reflect-taper' ? undefined : computeService(ctx);
  const strips = compute ? parallelStrips({ width: W, height: H, depth: is3d ? image.sizeZ : 1 }, { width: psf.width, height: psf.height }, compute.threads, params.iterations) : 1;
  for (const [v, vol] of volumes.entries()) {
    throwIfAborted(ctx.signal);
    const depth = vol.z.length;
    const gather = (s: Stack) => {
      const data = new Float32Array(plane * depth);
      vol.z.forEach((zz, k) => data.set(s.planes[planeIndex(s, vol.c, zz, vol.t)], k * plane));
      return data;
    };
    const pc = psf.sizeC === 1 ? 0 : vol.c;
    const psfData = new Float32Array(psf.width * psf.height * psf.sizeZ);
    for (let zz = 0; zz < psf.sizeZ; zz++) psfData.set(psf.planes[planeIndex(psf, pc, zz, 0)], zz * psf.width * psf.height);
    let result: DeconvolutionResult;
    const dims = { width: W, height: H, depth };
    const psfDims = { width: psf.width, height: psf.height, depth: psf.sizeZ };
    const options = { ...extra, iterations: params.iterations, boundary: params.boundary, memoryBudgetMb: params.memoryBudgetMb, signal: ctx.signal };
    if (compute && strips > 1) {
      const inWorkers = kind === 'rl' ? richardsonLucyInWorkers : landweberInWorkers;
      result = await inWorkers(gather(image), dims, psfData, psfDims, {
        ...options,
        pool: compute.workers,
        strips,
        onProgress: (f) => ctx.progress((v + f) / volumes.length, `volume ${v + 1}/${volumes.length}, ${strips} strips in workers`),
      });
    } else {
      const solve = kind === 'rl' ? richardsonLucy : landweber;
      result = solve(gather(image), dims, psfData, psfDims, {
        ...options,
        ...(reference ? { reference: gather(reference) } : {}),
        onIterationDone: (it) => ctx.progress((v * params.iterations + it) / total, `volume ${v + 1}/${volumes.length}, iteration ${it}/${params.iterations}`),
      });
    }
    if (v === 0) ctx.log.debug('deconvolution geometry', { box: result.box, tiles: result.tiles, strips: result.strips ?? 1, volumes: volumes.length });
    vol.z.forEach((zz, k) => {
      out[planeIndex(image, vol.c, zz, vol.t)] = result.image.slice(k * plane, (k + 1) * plane);
    });
    for (const s of result.stats ?? []) {
      const row: Record<string, Cell> = { iteration: s.iteration, psnr: s.psnr, ssim: s.ssim };
      if (volumes.length > 1) {
        row.c = vol.c;
        row.t = vol.t;
        if (!is3d) row.z = vol.z[0];
      }
      rows.push(row);
    }
  }
  const result: { image: Stack; stats?: Table } = { image: withPlanes(image, out) };
  if (reference) result.stats = createTable(columns, rows);
  return result;
}

/**
 * The ops' tiling declaration: a 2D deconvolution (one-plane, one-channel PSF given whole, no
 * reference, the default mirrored and tapered boundary) runs on tiles with a halo of the
 * engine's own tile margin, TILE_MARGIN_FACTOR · (PSF extent − 1) px, as its worker strips
 * and its memory-budget tiles do. Not exact (each iteration reaches a PSF radius further):
 * within float tolerance of the whole-plane run away from the image border (measured in
 * plugins/deconvolution/tiled.test.ts). A 3D PSF, a reference or zero padding: whole planes.
 */
export function deconvolutionTiling(params: CommonParams, others: Readonly<Record<string, unknown>> = {}): TilingPlan | undefined {
  const psf = others.psf;
  if (!isStack(psf) || psf.sizeZ !== 1 || psf.sizeC !== 1 || psf.sizeT !== 1 || psf.rgb) return undefined;
  if (others.reference !== undefined || params.boundary !== 'reflect-taper') return undefined;
  return { haloPx: TILE_MARGIN_FACTOR * (Math.max(psf.width, psf.height) - 1), dtype: 'float32', input: 'image', output: 'image' };
}
