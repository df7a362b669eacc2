import { describe, expect, it } from 'vitest';
import { formatImageJDescription, imageJCalibration, imageJSizes, parseImageJDescription } from './imagej.js';
import { indexInOrder, isOmeXml, parseOmeXml, parseXml, positionInOrder } from './ome.js';
import { completeSizes } from './read.js';

describe('ImageJ descriptions', () => {
  it('parses hyperstack fields, escaped units and time units', () => {
    const d = parseImageJDescription('ImageJ=1.54f\nimages=24\nchannels=2\nslices=3\nframes=4\nhyperstack=true\nmode=composite\nunit=\\u00B5m\nspacing=0.5\nfinterval=250\ntunit=ms\nloop=false\nmin=10.0\nmax=4000.0\n');
    expect(d).toMatchObject({ version: '1.54f', images: 24, channels: 2, slices: 3, frames: 4, hyperstack: true, mode: 'composite', unit: '\u00b5m', spacing: 0.5, finterval: 250, tunit: 'ms', loop: false, min: 10, max: 4000 });
    expect(imageJSizes(d)).toEqual({ sizeC: 2, sizeZ: 3, sizeT: 4, images: 24 });
    expect(imageJCalibration(d, 4, 4, 1)).toEqual({ pixelWidthUm: 0.25, pixelHeightUm: 0.25, zStepUm: 0.5, timeStepS: 0.25 });
  });

  it('treats images=N alone, or inconsistent sizes, as N slices', () => {
    expect(imageJSizes(parseImageJDescription('ImageJ=1.53t\nimages=7\n'))).toEqual({ sizeC: 1, sizeZ: 7, sizeT: 1, images: 7 });
    expect(imageJSizes(parseImageJDescription('ImageJ=1.53t\nimages=7\nchannels=2\nslices=2\n'))).toEqual({ sizeC: 1, sizeZ: 7, sizeT: 1, images: 7 });
  });

  it.each([
    ['micron', 1], ['um', 1], ['\u00b5m', 1], ['nm', 1e-3], ['mm', 1e3], ['cm', 1e4], ['m', 1e6], ['inch', 25400],
  ])('unit %s', (unit, factor) => {
    const cal = imageJCalibration(parseImageJDescription(`ImageJ=1.53t\nunit=${unit}\nspacing=3\n`), 2, 2, 1);
    expect(cal.pixelWidthUm).toBeCloseTo(0.5 * factor, 9);
    expect(cal.zStepUm).toBeCloseTo(3 * factor, 9);
  });

  it('is uncalibrated for unit=pixel or no unit and ResolutionUnit none; yunit/zunit are honoured', () => {
    expect(imageJCalibration(parseImageJDescription('ImageJ=1.53t\nunit=pixel\nspacing=2\n'), 2, 2, 1)).toEqual({});
    expect(imageJCalibration(parseImageJDescription('ImageJ=1.53t\n'), 2, 2, 1)).toEqual({});
    expect(imageJCalibration(parseImageJDescription('ImageJ=1.53t\n'), 2, 2, 3)).toEqual({ pixelWidthUm: 5000, pixelHeightUm: 5000 });
    expect(imageJCalibration(parseImageJDescription('ImageJ=1.53t\nunit=micron\nyunit=nm\nzunit=mm\nspacing=0.001\n'), 1, 1, 1)).toEqual({ pixelWidthUm: 1, pixelHeightUm: 0.001, zStepUm: 1 });
  });

  it('formats only the fields that apply and parses back', () => {
    const text = formatImageJDescription({ sizeC: 1, sizeZ: 4, sizeT: 3, rgb: false, calibration: { pixelWidthUm: 0.2, zStepUm: 0.75, timeStepS: 60 }, min: 0, max: 1.5 });
    expect(text).toBe('ImageJ=1.53t\nimages=12\nslices=4\nframes=3\nhyperstack=true\nunit=micron\nspacing=0.75\nfinterval=60.0\nloop=false\nmin=0.0\nmax=1.5\n');
    const d = parseImageJDescription(text);
    expect(imageJSizes(d)).toEqual({ sizeC: 1, sizeZ: 4, sizeT: 3, images: 12 });
    expect(formatImageJDescription({ sizeC: 9, sizeZ: 1, sizeT: 1, rgb: false, calibration: {} })).toContain('mode=grayscale');
  });
});

describe('OME-XML', () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment with <OME> inside -->
<ome:OME xmlns:ome="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="urn:uuid:1" Creator="x &amp; y">
  <ome:Image ID="Image:0" Name="cells &lt;1&gt;">
    <ome:AcquisitionDate>2020-01-02T03:04:05</ome:AcquisitionDate>
    <ome:Pixels DimensionOrder="XYZTC" Type="uint16" SizeX="8" SizeY="6" SizeZ="3" SizeC="2" SizeT="4"
        PhysicalSizeX='0.5' PhysicalSizeY="500" PhysicalSizeYUnit="nm" PhysicalSizeZ="0.002" PhysicalSizeZUnit="mm" TimeIncrement="1.5" TimeIncrementUnit="min">
      <ome:Channel ID="Channel:0:0" Name="DAPI" SamplesPerPixel="1"/>
      <ome:Channel ID="Channel:0:1" Name="GFP&#x20;488" SamplesPerPixel="1"/>
      <ome:TiffData IFD="0" PlaneCount="12"/>
      <ome:TiffData FirstC="1" IFD="0" PlaneCount="12"><ome:UUID FileName="other.ome.tif">urn:uuid:2</ome:UUID></ome:TiffData>
    </ome:Pixels>
  </ome:Image>
</ome:OME>`;

  it('parses Pixels, units, channels and TiffData (namespace prefixes, entities, comments)', () => {
    expect(isOmeXml(xml)).toBe(true);
    expect(isOmeXml('ImageJ=1.53t\n')).toBe(false);
    const meta = parseOmeXml(xml);
    expect(meta.uuid).toBe('urn:uuid:1');
    expect(meta.creator).toBe('x & y');
    expect(meta.images).toHaveLength(1);
    const img = meta.images[0];
    expect(img).toMatchObject({ name: 'cells <1>', dimensionOrder: 'XYZTC', sizeX: 8, sizeY: 6, sizeZ: 3, sizeC: 2, sizeT: 4, acquisitionDate: '2020-01-02T03:04:05' });
    expect(img.physicalSizeX).toBeCloseTo(0.5, 12);
    expect(img.physicalSizeY).toBeCloseTo(0.5, 12);
    expect(img.physicalSizeZ).toBeCloseTo(2, 12);
    expect(img.timeIncrement).toBeCloseTo(90, 12);
    expect(img.channels.map((c) => c.name)).toEqual(['DAPI', 'GFP 488']);
    expect(img.tiffData).toEqual([
      { ifd: 0, planeCount: 12, firstC: 0, firstZ: 0, firstT: 0, fileName: undefined, uuid: undefined },
      { ifd: 0, planeCount: 12, firstC: 1, firstZ: 0, firstT: 0, fileName: 'other.ome.tif', uuid: 'urn:uuid:2' },
    ]);
  });

  it('rejects malformed XML and bad sizes', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/unexpected <\/a>/);
    expect(() => parseXml('<a x="1>')).toThrow(/unterminated/);
    expect(() => parseOmeXml('<OME><Image><Pixels SizeX="-3" SizeY="1"/></Image></OME>')).toThrow(/SizeX/);
    expect(() => parseOmeXml('<OME><Image><Pixels DimensionOrder="XYQZT" SizeX="1" SizeY="1"/></Image></OME>')).toThrow(/DimensionOrder/);
  });

  it('maps plane indices for every DimensionOrder', () => {
    const sizes = { c: 2, z: 3, t: 4 };
    for (const order of ['XYCZT', 'XYCTZ', 'XYZCT', 'XYZTC', 'XYTCZ', 'XYTZC']) {
      const seen = new Set<string>();
      for (let i = 0; i < 24; i++) {
        const p = positionInOrder(order, i, sizes);
        expect(indexInOrder(order, p, sizes)).toBe(i);
        seen.add(`${p.c},${p.z},${p.t}`);
      }
      expect(seen.size).toBe(24);
    }
    expect(positionInOrder('XYZTC', 1, sizes)).toEqual({ c: 0, z: 1, t: 0 });
    expect(positionInOrder('XYZTC', 3, sizes)).toEqual({ c: 0, z: 0, t: 1 });
    expect(positionInOrder('XYZTC', 12, sizes)).toEqual({ c: 1, z: 0, t: 0 });
  });
});

describe('completeSizes (interrupted acquisitions)', () => {
  const present = (n: number, total: number): boolean[] => Array.from({ length: total }, (_, i) => i < n);
  it('keeps complete time points', () => {
    expect(completeSizes(present(22, 30), 2, 3, 5)).toEqual({ sizeC: 2, sizeZ: 3, sizeT: 3 });
    expect(completeSizes(present(30, 30), 2, 3, 5)).toEqual({ sizeC: 2, sizeZ: 3, sizeT: 5 });
  });
  it('falls back to complete z slices, then channels, of the first time point', () => {
    expect(completeSizes(present(5, 30), 2, 3, 5)).toEqual({ sizeC: 2, sizeZ: 2, sizeT: 1 });
    expect(completeSizes(present(1, 30), 2, 3, 5)).toEqual({ sizeC: 1, sizeZ: 1, sizeT: 1 });
    expect(completeSizes(present(0, 30), 2, 3, 5)).toBeUndefined();
  });
  it('stops at a hole', () => {
    const p = present(30, 30);
    p[13] = false; // t=2
    expect(completeSizes(p, 2, 3, 5)).toEqual({ sizeC: 2, sizeZ: 3, sizeT: 2 });
  });
});
