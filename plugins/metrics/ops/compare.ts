import { createTable, defineOperation, FocalError, type Image, type Logger, z } from '../../../core/index.js';
import { berhu, cropBorder, mae, msSsim, msSsimMinSize, pearson, psnr, rmse, ssim, ssimWindowSize, standardDeviation, valueRange as range } from '../../../core/imaging.js';

/** Columns of `metrics.compare`'s one-row table, in order. */
export const COMPARE_COLUMNS = ['psnr', 'ssim', 'msssim', 'rmse', 'mae', 'berhu', 'pearson'] as const;

/** @throws FocalError `E_PORT` naming the port and the first NaN pixel. */
export function assertNoNaNPort(image: Image, port: string): void {
  const d = image.data;
  for (let i = 0; i < d.length; i++) {
    if (Number.isNaN(d[i])) {
      throw new FocalError('E_PORT', `${port} has NaN pixels (first at x=${i % image.width}, y=${Math.floor(i / image.width)}); metrics are undefined for NaN`, { field: port });
    }
  }
}

/** @throws FocalError `E_PORT` naming both sizes when the two images differ in size. */
export function assertSameSize(a: { width: number; height: number }, b: { width: number; height: number }, names: [string, string]): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new FocalError('E_PORT', `${names[0]} is ${a.width}×${a.height} px but ${names[1]} is ${b.width}×${b.height} px; they must be the same size`, { field: names[0] });
  }
}

export const compareParams = z.strictObject({
  dataRange: z.number().positive().max(3.4e38).optional().describe('Intensity range R for PSNR, SSIM and MS-SSIM (C1 = (0.01·R)², C2 = (0.03·R)²); default: the reference\'s max − min after border cropping'),
  borderPx: z.number().int().min(0).max(65536).default(0).describe('Pixels excluded at each edge before every metric, px (Deep-R excluded 10 px when comparing deconvolution results)'),
  berhuC: z.number().positive().max(3.4e38).optional().describe('BerHu threshold c, intensity units; default: 0.1 × the reference\'s standard deviation (Deep-R)'),
});

function guarded(log: Logger, name: string, reason: string | undefined, f: () => number): number | null {
  if (reason !== undefined) {
    log.warn(`${name} not computed: ${reason}; its column is null`);
    return null;
  }
  const v = f();
  return Number.isNaN(v) ? null : v;
}

export const compare = defineOperation({
  id: 'metrics.compare',
  title: 'Compare with a reference',
  description:
    'Full-reference image quality: PSNR (dB), SSIM (Gaussian window σ = 1.5, as scikit-image), MS-SSIM (5 scales, as tf.image.ssim_multiscale), RMSE, MAE, BerHu and Pearson r of an image against its ground truth, as a one-row table.',
  inputs: {
    image: { type: 'image', description: 'The image to evaluate (e.g. a restored or autofocused image)' },
    reference: { type: 'image', description: 'Ground truth of the same size' },
  },
  outputs: { metrics: { type: 'table', description: 'One row: psnr, ssim, msssim, rmse, mae, berhu, pearson (null where undefined, with a warning in the log)' } },
  params: compareParams,
  run(ctx, { image, reference }, params) {
    assertSameSize(image, reference, ['image', 'reference']);
    assertNoNaNPort(image, 'image');
    assertNoNaNPort(reference, 'reference');
    const borderPx = params.borderPx ?? 0;
    if (!Number.isInteger(borderPx) || borderPx < 0 || 2 * borderPx >= Math.min(image.width, image.height)) {
      throw new FocalError('E_PARAMS', `borderPx: ${borderPx} leaves nothing of a ${image.width}×${image.height} image (at most ${Math.floor((Math.min(image.width, image.height) - 1) / 2)})`, { field: 'borderPx' });
    }
    const a = cropBorder(image.data, image.width, image.height, borderPx);
    const b = cropBorder(reference.data, reference.width, reference.height, borderPx);
    const { width, height } = a;
    const { min, max } = range(b.data);
    if (params.dataRange === undefined && !(max > min)) {
      throw new FocalError('E_PARAMS', 'dataRange: the reference is constant (max − min = 0), so no default data range exists; give dataRange', { field: 'dataRange' });
    }
    const dataRange = params.dataRange ?? max - min;
    const berhuC = params.berhuC ?? 0.1 * standardDeviation(b.data);
    ctx.log.debug('compare', { width, height, borderPx, dataRange, berhuC });
    const win = ssimWindowSize();
    const msMin = msSsimMinSize();
    const small = (n: number) => (width < n || height < n ? `the compared region is ${width}×${height} px, smaller than the ${n}×${n} px it needs` : undefined);
    const row = {
      psnr: psnr(a.data, b.data, { dataRange }),
      ssim: guarded(ctx.log, 'ssim', small(win), () => ssim(a.data, b.data, width, height, { dataRange })),
      msssim: guarded(ctx.log, 'msssim', small(msMin), () => msSsim(a.data, b.data, width, height, { dataRange })),
      rmse: rmse(a.data, b.data),
      mae: mae(a.data, b.data),
      berhu: guarded(ctx.log, 'berhu', berhuC > 0 ? undefined : 'the reference is constant, so the default threshold c is 0 (give berhuC)', () => berhu(a.data, b.data, { c: berhuC })),
      pearson: guarded(ctx.log, 'pearson', max > min ? undefined : 'the reference is constant', () => pearson(a.data, b.data)),
    };
    if (row.pearson === null && max > min) ctx.log.warn('pearson is undefined: the image is constant; its column is null');
    ctx.progress(1);
    return { metrics: createTable([...COMPARE_COLUMNS], [row]) };
  },
});
