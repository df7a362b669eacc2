import { FocalError, createTable, defineOperation, z, type Image } from '../../../core/index.js';
import { rowSharpness as computeRowSharpness } from '../sharpness.js';

function assertNoNaN(image: Image, port: string): void {
  const d = image.data;
  for (let i = 0; i < d.length; i++) {
    if (Number.isNaN(d[i])) throw new FocalError('E_PORT', `${port} has NaN pixels (first at x=${i % image.width}, y=${Math.floor(i / image.width)})`, { field: port });
  }
}

export const rowSharpness = defineOperation({
  id: 'focus.row-sharpness',
  title: 'Row-wise relative sharpness',
  description:
    "Deep-R's relative sharpness coefficient of each image row against a reference (e.g. a maximum-intensity projection): OLS without intercept of the image's Sobel sharpness map on the reference's, row by row, with its standard error.",
  inputs: {
    image: { type: 'image', description: 'Image to evaluate' },
    reference: { type: 'image', description: 'Sharp reference of the same size' },
  },
  outputs: {
    rows: { type: 'table', description: 'One row per image row: row (0-based y), coefficient (β̂, 1 = as sharp as the reference), stdError (null where the reference row is flat)' },
    summary: { type: 'table', description: 'One row: meanCoefficient, coefficientStd (spread across rows), meanStdError, rows (rows with a defined coefficient)' },
  },
  params: z.strictObject({}),
  run(ctx, { image, reference }) {
    if (image.width !== reference.width || image.height !== reference.height) {
      throw new FocalError('E_PORT', `image is ${image.width}×${image.height} px but reference is ${reference.width}×${reference.height} px; they must be the same size`, { field: 'image' });
    }
    if (image.width < 2) throw new FocalError('E_PORT', `image rows must be at least 2 px wide, got ${image.width}`, { field: 'image' });
    assertNoNaN(image, 'image');
    assertNoNaN(reference, 'reference');
    const r = computeRowSharpness(image.data, reference.data, image.width, image.height);
    if (r.rows < image.height) ctx.log.warn(`${image.height - r.rows} row(s) of the reference have no gradient; their coefficient is null`);
    const cell = (v: number) => (Number.isNaN(v) ? null : v);
    ctx.progress(1);
    return {
      rows: createTable(['row', 'coefficient', 'stdError'], Array.from(r.coefficients, (c, row) => ({ row, coefficient: cell(c), stdError: cell(r.stdErrors[row]) }))),
      summary: createTable(['meanCoefficient', 'coefficientStd', 'meanStdError', 'rows'], [
        { meanCoefficient: cell(r.meanCoefficient), coefficientStd: cell(r.coefficientStd), meanStdError: cell(r.meanStdError), rows: r.rows },
      ]),
    };
  },
});
