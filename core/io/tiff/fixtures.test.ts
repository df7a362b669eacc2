import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planeIndex, type Stack } from '../../data/stack.js';
import { inspectTiff, readTiff } from './read.js';

// Fixtures come from tifffile, tiffcp and ImageJ (scripts/make-tiff-fixtures.py); these
// formulas are the ones that script used to fill the pixels.
const fx = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const u16 = (c: number, z: number, t: number, y: number, x: number): number => x + 3 * y + 1000 * c + 100 * z + 10 * t;
const u8 = (c: number, z: number, t: number, y: number, x: number): number => (x + y + 40 * c + 20 * z + 7 * t) % 256;
const f32 = (c: number, z: number, t: number, y: number, x: number): number => 0.5 * x - y + 100 * c + 10 * z + 1.25 * t;

type Formula = (c: number, z: number, t: number, y: number, x: number) => number;

/** Checks every pixel of every plane against the formula. */
function expectPixels(stack: Stack, f: Formula, map: (c: number, z: number, t: number) => [number, number, number] = (c, z, t) => [c, z, t]): void {
  let bad = 0;
  let firstBad = '';
  for (let t = 0; t < stack.sizeT; t++) {
    for (let z = 0; z < stack.sizeZ; z++) {
      for (let c = 0; c < stack.sizeC; c++) {
        const p = stack.planes[planeIndex(stack, c, z, t)];
        const [mc, mz, mt] = map(c, z, t);
        for (let y = 0; y < stack.height; y++) {
          for (let x = 0; x < stack.width; x++) {
            const want = f(mc, mz, mt, y, x);
            if (p[y * stack.width + x] !== want) {
              if (bad++ === 0) firstBad = `c=${c} z=${z} t=${t} x=${x} y=${y}: got ${p[y * stack.width + x]}, want ${want}`;
            }
          }
        }
      }
    }
  }
  expect(firstBad).toBe('');
  expect(bad).toBe(0);
}

async function read(name: string): Promise<{ stack: Stack; warnings: string[] }> {
  const warnings: string[] = [];
  const stack = await readTiff(fx(name), { onWarning: (m) => warnings.push(m) });
  return { stack, warnings };
}

describe('plain TIFFs written by tifffile', () => {
  it('reads a single uint8 page', async () => {
    const { stack, warnings } = await read('tifffile_u8.tif');
    expect([stack.width, stack.height, stack.dtype, stack.sizeC, stack.sizeZ, stack.sizeT]).toEqual([32, 24, 'uint8', 1, 1, 1]);
    expect(stack.rgb).toBe(false);
    expect(stack.calibration).toEqual({});
    expect(stack.metadata.format).toBe('plain');
    expect(stack.metadata.source).toBe('tifffile_u8.tif');
    expectPixels(stack, u8);
    expect(warnings).toEqual([]);
  });

  it('reads a multi-page uint16 file as z slices', async () => {
    const { stack } = await read('tifffile_u16_z5.tif');
    expect([stack.dtype, stack.sizeC, stack.sizeZ, stack.sizeT]).toEqual(['uint16', 1, 5, 1]);
    expectPixels(stack, u16);
  });

  it('reads float32', async () => {
    const { stack } = await read('tifffile_f32_z2.tif');
    expect(stack.dtype).toBe('float32');
    expect(stack.sizeZ).toBe(2);
    expectPixels(stack, f32);
  });

  it.each([
    ['tifffile_i8.tif', 'int8', (x: number, y: number) => x - y - 10],
    ['tifffile_i16.tif', 'int16', (x: number, y: number) => x * 500 - y * 1300],
    ['tifffile_i32.tif', 'int32', (x: number, y: number) => x * 100000 - y * 70000],
  ])('converts %s (%s) to float32 exactly', async (name, sampleType, f) => {
    const { stack, warnings } = await read(name);
    expect(stack.dtype).toBe('float32');
    expect(stack.metadata.sampleType).toBe(sampleType);
    expectPixels(stack, (_c, _z, _t, y, x) => f(x, y));
    expect(warnings).toEqual([]);
  });

  it('converts uint32 beyond 2^24 to float32 with a warning', async () => {
    const { stack, warnings } = await read('tifffile_u32_big.tif');
    expect(stack.dtype).toBe('float32');
    expectPixels(stack, (_c, _z, _t, y, x) => Math.fround(x * 1000003 + 16777216 + y));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/tifffile_u32_big\.tif.*2\^24/);
  });

  it('converts float64 to float32 with a warning', async () => {
    const { stack, warnings } = await read('tifffile_f64.tif');
    expect(stack.dtype).toBe('float32');
    expectPixels(stack, (_c, _z, _t, y, x) => Math.fround(x / 3 - y * 1e-3));
    expect(warnings.join('\n')).toMatch(/tifffile_f64\.tif: 64-bit floating-point/);
  });

  it('takes pixel size from X/YResolution in pixels per centimetre', async () => {
    const { stack } = await read('tifffile_res_cm.tif');
    expect(stack.calibration.pixelWidthUm).toBeCloseTo(2.5, 12);
    expect(stack.calibration.pixelHeightUm).toBeCloseTo(2.5, 12);
  });

  it('skips reduced-resolution pages and pages of another size, with a warning', async () => {
    const { stack, warnings } = await read('tifffile_with_thumbnails.tif');
    expect([stack.width, stack.height, stack.sizeZ]).toEqual([32, 24, 2]);
    expectPixels(stack, u16);
    expect(warnings).toEqual(['tifffile_with_thumbnails.tif: skipped 2 page(s) that are reduced-resolution copies or differ in size from the first page']);
  });

  it('reads chunky RGB as a 3-channel uint8 stack with rgb: true', async () => {
    const { stack } = await read('tifffile_rgb_z2.tif');
    expect([stack.dtype, stack.sizeC, stack.sizeZ, stack.rgb]).toEqual(['uint8', 3, 2, true]);
    expectPixels(stack, u8);
  });

  it('reads planar RGB', async () => {
    const { stack } = await read('tifffile_rgb_planar.tif');
    expect([stack.sizeC, stack.sizeZ, stack.rgb]).toEqual([3, 1, true]);
    expectPixels(stack, u8);
  });
});

describe('compression, tiling, BigTIFF and byte order (tiffcp)', () => {
  it.each([
    ['tiffcp_lzw.tif', 'lzw', false, false],
    ['tiffcp_lzw_pred.tif', 'lzw', false, false],
    ['tiffcp_zip.tif', 'deflate', false, false],
    ['tiffcp_zip_pred.tif', 'deflate', false, false],
    ['tiffcp_packbits.tif', 'packbits', false, false],
    ['tiffcp_strips5.tif', 'none', false, false],
    ['tiffcp_tiled.tif', 'none', true, false],
    ['tiffcp_tiled_zip.tif', 'deflate', true, false],
    ['tiffcp_bigtiff.tif', 'none', false, true],
    ['tiffcp_bigtiff_tiled_lzw.tif', 'lzw', true, true],
    ['tiffcp_bigendian.tif', 'none', false, false],
    ['tiffcp_bigendian_lzw_pred.tif', 'lzw', false, false],
  ])('%s decodes to the original uint16 pixels', async (name, compression, tiled, bigTiff) => {
    const { stack, warnings } = await read(name);
    expect([stack.width, stack.height, stack.dtype, stack.sizeZ]).toEqual([32, 24, 'uint16', 5]);
    expectPixels(stack, u16);
    expect(warnings).toEqual([]);
    const info = await inspectTiff(fx(name));
    expect(info.compression).toBe(compression);
    expect(info.tiled).toBe(tiled);
    expect(info.bigTiff).toBe(bigTiff);
    expect(info.littleEndian).toBe(!name.includes('bigendian'));
    expect(info.pageCount).toBe(5);
  });

  it.each(['tiffcp_f32_zip_fpred.tif', 'tiffcp_f32_bigendian_zip.tif'])('%s: float32 with floating-point predictor or big-endian byte order', async (name) => {
    const { stack } = await read(name);
    expect(stack.dtype).toBe('float32');
    expectPixels(stack, f32);
  });

  it.each(['tiffcp_rgb_tiled_lzw.tif', 'tiffcp_rgb_planar_packbits.tif'])('%s: compressed RGB', async (name) => {
    const { stack } = await read(name);
    expect([stack.sizeC, stack.sizeZ, stack.rgb]).toEqual([3, 2, true]);
    expectPixels(stack, u8);
  });
});

describe('ImageJ TIFFs', () => {
  it('reads a 16-bit hyperstack written by ImageJ with its calibration', async () => {
    const { stack, warnings } = await read('imagej_16bit_c2z3t4.tif');
    expect([stack.width, stack.height, stack.dtype, stack.sizeC, stack.sizeZ, stack.sizeT]).toEqual([32, 24, 'uint16', 2, 3, 4]);
    expect(stack.calibration.pixelWidthUm).toBeCloseTo(0.5, 12);
    expect(stack.calibration.pixelHeightUm).toBeCloseTo(0.5, 12);
    expect(stack.calibration.zStepUm).toBeCloseTo(2, 12);
    expect(stack.calibration.timeStepS).toBeCloseTo(1.5, 12);
    expect(stack.metadata.format).toBe('imagej');
    expect(stack.metadata.imagej).toMatchObject({ version: '1.53t', mode: 'color' });
    expectPixels(stack, u16);
    expect(warnings).toEqual([]);
  });

  it('converts nm to µm (8-bit ImageJ stack)', async () => {
    const { stack } = await read('imagej_8bit_z5.tif');
    expect([stack.dtype, stack.sizeC, stack.sizeZ, stack.sizeT]).toEqual(['uint8', 1, 5, 1]);
    // ImageJ stores 1/120 px per nm as a rational rounded to 6 digits.
    expect(stack.calibration.pixelWidthUm).toBeCloseTo(0.12, 4);
    expect(stack.calibration.zStepUm).toBeCloseTo(0.3, 9);
    expectPixels(stack, u8);
  });

  it('reads a 32-bit time series: unit pixel = uncalibrated, frame interval in msec', async () => {
    const { stack } = await read('imagej_32bit_t3.tif');
    expect([stack.dtype, stack.sizeZ, stack.sizeT]).toEqual(['float32', 1, 3]);
    expect(stack.calibration.pixelWidthUm).toBeUndefined();
    expect(stack.calibration.zStepUm).toBeUndefined();
    expect(stack.calibration.timeStepS).toBeCloseTo(0.25, 12);
    expectPixels(stack, (c, z, t, y, x) => Math.fround(f32(c, z, t, y, x)));
  });

  it('reads an ImageJ RGB stack in mm', async () => {
    const { stack } = await read('imagej_rgb_z2.tif');
    expect([stack.dtype, stack.sizeC, stack.sizeZ, stack.rgb]).toEqual(['uint8', 3, 2, true]);
    expect(stack.calibration.pixelWidthUm).toBeCloseTo(10, 9);
    expect(stack.calibration.zStepUm).toBeCloseTo(50, 9);
    // The macro used (x + y + 40c + 20z) % 256 for channel c (t = 0).
    expectPixels(stack, u8);
  });

  it('reads tifffile’s ImageJ hyperstack (unit=um)', async () => {
    const { stack } = await read('tifffile_imagej_hyperstack.tif');
    expect([stack.sizeC, stack.sizeZ, stack.sizeT]).toEqual([2, 3, 2]);
    expect(stack.calibration).toEqual({ pixelWidthUm: 0.5, pixelHeightUm: 0.5, zStepUm: 2, timeStepS: 1.5 });
    expectPixels(stack, u16);
  });

  it('reads ImageJ’s single-IFD layout: images=6, planes stored contiguously', async () => {
    const { stack, warnings } = await read('imagej_single_ifd.tif');
    expect([stack.sizeZ, stack.dtype]).toEqual([6, 'uint16']);
    expect(stack.calibration).toEqual({ pixelWidthUm: 0.25, pixelHeightUm: 0.25, zStepUm: 0.75 });
    expectPixels(stack, u16);
    expect(warnings).toEqual([]);
    const info = await inspectTiff(fx('imagej_single_ifd.tif'));
    expect([info.pageCount, info.sizeZ, info.format]).toEqual([1, 6, 'imagej']);
  });

  it('reads the complete planes of a truncated single-IFD file and warns', async () => {
    const { stack, warnings } = await read('imagej_single_ifd_truncated.tif');
    expect(stack.sizeZ).toBe(3);
    expectPixels(stack, u16);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/imagej_single_ifd_truncated\.tif.*read 3 of 6 planes/);
  });
});

describe('OME-TIFF', () => {
  it.each(['XYCZT', 'XYCTZ', 'XYZCT', 'XYZTC', 'XYTCZ', 'XYTZC'])('DimensionOrder %s is reordered to XYCZT', async (order) => {
    const { stack, warnings } = await read(`ome_${order}.ome.tif`);
    expect([stack.width, stack.height, stack.sizeC, stack.sizeZ, stack.sizeT]).toEqual([16, 12, 3, 4, 2]);
    expect(stack.channelNames).toEqual(['DAPI', 'GFP', 'RFP']);
    expect(stack.calibration).toEqual({ pixelWidthUm: 0.25, pixelHeightUm: 0.3, zStepUm: 1.5, timeStepS: 2 });
    expect(stack.metadata.format).toBe('ome');
    expect(stack.metadata.ome).toMatchObject({ dimensionOrder: order, planes: 24, planesRead: 24 });
    expectPixels(stack, u16);
    expect(warnings).toEqual([]);
  });

  it('converts nm, mm and ms', async () => {
    const { stack } = await read('ome_units.ome.tif');
    expect(stack.sizeZ).toBe(2);
    expect(stack.calibration.pixelWidthUm).toBeCloseTo(0.25, 12);
    expect(stack.calibration.zStepUm).toBeCloseTo(2, 12);
    expect(stack.calibration.timeStepS).toBeCloseTo(0.5, 12);
  });

  it('reads OME RGB (one Channel with SamplesPerPixel=3)', async () => {
    const { stack } = await read('ome_rgb.ome.tif');
    expect([stack.sizeC, stack.sizeZ, stack.rgb]).toEqual([3, 2, true]);
    expectPixels(stack, u8);
  });

  it('inspectTiff reports the OME layout without decoding', async () => {
    const info = await inspectTiff(fx('ome_XYZTC.ome.tif'));
    expect(info).toMatchObject({ format: 'ome', width: 16, height: 12, sizeC: 3, sizeZ: 4, sizeT: 2, dtype: 'uint16', sampleType: 'uint16', pageCount: 24, compression: 'none', bigTiff: false, tiled: false, rgb: false });
    expect(info.channelNames).toEqual(['DAPI', 'GFP', 'RFP']);
    expect(info.description).toMatch(/^<\?xml/);
    expect(info.warnings).toEqual([]);
  });
});

describe('cancellation', () => {
  it('an aborted signal gives E_CANCELLED', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(readTiff(fx('tiffcp_lzw.tif'), { signal: ac.signal })).rejects.toMatchObject({ name: 'FocalError', code: 'E_CANCELLED' });
  });
});

describe('Micro-Manager series', () => {
  it('reads a series split over two files', async () => {
    const { stack, warnings } = await read('mmstack/Exp_MMStack_Pos0.ome.tif');
    expect([stack.width, stack.height, stack.sizeC, stack.sizeZ, stack.sizeT]).toEqual([16, 12, 2, 3, 4]);
    expect(stack.channelNames).toEqual(['Ch0', 'Ch1']);
    // 0.65 µm (UTF-8 "µm" in the XML), 3000 ms.
    expect(stack.calibration).toEqual({ pixelWidthUm: 0.65, pixelHeightUm: 0.65, zStepUm: 0.5, timeStepS: 3 });
    expect(stack.metadata.ome).toMatchObject({ files: ['Exp_MMStack_Pos0.ome.tif', 'Exp_MMStack_Pos0_1.ome.tif'], acquisitionDate: '2024-05-01T10:00:00' });
    expectPixels(stack, u16);
    expect(warnings).toEqual([]);
    const info = await inspectTiff(fx('mmstack/Exp_MMStack_Pos0.ome.tif'));
    expect(info.files.map((f) => f.split('/').pop())).toEqual(['Exp_MMStack_Pos0.ome.tif', 'Exp_MMStack_Pos0_1.ome.tif']);
    expect(info.sizeT).toBe(4);
  });

  it('reads what exists when the second file is missing, and warns', async () => {
    const { stack, warnings } = await read('mmstack_missing/Exp_MMStack_Pos0.ome.tif');
    expect([stack.sizeC, stack.sizeZ, stack.sizeT]).toEqual([2, 3, 2]);
    expectPixels(stack, u16);
    expect(warnings.join('\n')).toMatch(/Exp_MMStack_Pos0_1\.ome\.tif of this series is missing/);
    expect(warnings.join('\n')).toMatch(/Exp_MMStack_Pos0\.ome\.tif: .*read 12 of 24 planes as c=2, z=3, t=2/);
  });

  it('keeps the complete time points of an interrupted acquisition and warns', async () => {
    const { stack, warnings } = await read('mm_interrupted/Int_MMStack_Pos0.ome.tif');
    // 30 planes promised, 22 written: 3 complete time points (18 planes).
    expect([stack.sizeC, stack.sizeZ, stack.sizeT]).toEqual([2, 3, 3]);
    expectPixels(stack, u16);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/Int_MMStack_Pos0\.ome\.tif: OME-XML describes 30 planes .* only 22 exist.*read 18 of 30 planes as c=2, z=3, t=3/);
    const info = await inspectTiff(fx('mm_interrupted/Int_MMStack_Pos0.ome.tif'));
    expect(info.sizeT).toBe(3);
    expect(info.warnings).toHaveLength(1);
  });
});
