import type { Calibration } from '../../data/image.js';
import { lengthUnitToUm, positive, timeUnitToS } from './units.js';

/** The ImageJ version Focal claims in the descriptions it writes. */
export const IMAGEJ_VERSION = '1.53t';

/** An ImageJ ImageDescription (`ImageJ=1.53t\nimages=…\n…`), parsed. Every key=value line is kept in `fields`. */
export interface ImageJDescription {
  version: string;
  images?: number;
  channels?: number;
  slices?: number;
  frames?: number;
  hyperstack?: boolean;
  mode?: string;
  unit?: string;
  yunit?: string;
  zunit?: string;
  spacing?: number;
  finterval?: number;
  tunit?: string;
  loop?: boolean;
  min?: number;
  max?: number;
  /** All key=value lines as text (unknown keys included). */
  fields: Record<string, string>;
}

export function isImageJDescription(text: string | undefined): text is string {
  return text !== undefined && text.startsWith('ImageJ=');
}

/** ImageJ writes non-ASCII units as Java escapes (`\u00B5m`). */
function unescape(v: string): string {
  return v.replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function int(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : undefined;
}

export function parseImageJDescription(text: string): ImageJDescription {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (!(key in fields)) fields[key] = unescape(line.slice(eq + 1).trim());
  }
  const bool = (v: string | undefined): boolean | undefined => (v === undefined ? undefined : v.trim().toLowerCase() === 'true');
  return {
    version: fields.ImageJ ?? '',
    images: int(fields.images),
    channels: int(fields.channels),
    slices: int(fields.slices),
    frames: int(fields.frames),
    hyperstack: bool(fields.hyperstack),
    mode: fields.mode,
    unit: fields.unit,
    yunit: fields.yunit,
    zunit: fields.zunit,
    spacing: num(fields.spacing),
    finterval: num(fields.finterval),
    tunit: fields.tunit,
    loop: bool(fields.loop),
    min: num(fields.min),
    max: num(fields.max),
    fields,
  };
}

/**
 * Sizes from an ImageJ description. ImageJ's rule: channels·slices·frames must equal
 * images; a plain `images=N` stack is N slices.
 */
export function imageJSizes(d: ImageJDescription): { sizeC: number; sizeZ: number; sizeT: number; images: number } {
  const c = d.channels ?? 1;
  const z = d.slices ?? 1;
  const t = d.frames ?? 1;
  const images = d.images ?? c * z * t;
  if (c * z * t === images) return { sizeC: c, sizeZ: z, sizeT: t, images };
  return { sizeC: 1, sizeZ: images, sizeT: 1, images };
}

const SIZE_KEYS = ['images', 'channels', 'slices', 'frames'] as const;

/**
 * Why the description's images / channels / slices / frames cannot be trusted, or undefined:
 * a value that is not a positive whole number (garbage, negative, zero), or channels·slices·frames
 * (any of them given) that differs from images. ImageJ itself then ignores the dimensions.
 */
export function imageJSizeProblem(d: ImageJDescription): string | undefined {
  for (const key of SIZE_KEYS) {
    const raw = d.fields[key];
    if (raw === undefined) continue;
    const v = raw.trim();
    if (!/^\+?[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < 1) {
      return `${key}=${JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw)} is not a positive whole number`;
    }
  }
  const given = d.channels !== undefined || d.slices !== undefined || d.frames !== undefined;
  const c = d.channels ?? 1;
  const z = d.slices ?? 1;
  const t = d.frames ?? 1;
  if (given && d.images !== undefined && c * z * t !== d.images) {
    return `channels × slices × frames = ${c} × ${z} × ${t} = ${c * z * t}, but images=${d.images}`;
  }
  return undefined;
}

/**
 * Calibration of an ImageJ TIFF: pixel size = 1 / X/YResolution in the description's unit
 * (or the ResolutionUnit tag, inch or cm, when the description names none); z step from
 * `spacing` (in `zunit`, else `unit`); time step from `finterval` (in `tunit`, default seconds).
 * "pixel" or no unit = spatially uncalibrated.
 */
export function imageJCalibration(d: ImageJDescription, xRes: number | undefined, yRes: number | undefined, resolutionUnit: number): Calibration {
  const cal: Calibration = {};
  const unit = d.unit ?? (resolutionUnit === 2 ? 'inch' : resolutionUnit === 3 ? 'cm' : undefined);
  const ux = lengthUnitToUm(unit);
  const uy = d.yunit !== undefined ? lengthUnitToUm(d.yunit) : ux;
  const uz = d.zunit !== undefined ? lengthUnitToUm(d.zunit) : ux;
  const xr = positive(xRes);
  const yr = positive(yRes) ?? xr;
  if (ux !== undefined && xr !== undefined) cal.pixelWidthUm = ux / xr;
  if (uy !== undefined && yr !== undefined) cal.pixelHeightUm = uy / yr;
  const spacing = positive(d.spacing);
  if (uz !== undefined && spacing !== undefined) cal.zStepUm = spacing * uz;
  const ts = timeUnitToS(d.tunit ?? 'sec');
  const fi = positive(d.finterval);
  if (fi !== undefined && ts !== undefined) cal.timeStepS = fi * ts;
  return cal;
}

export interface ImageJDescriptionInit {
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  /** RGB stacks: sizeC is 3 samples per pixel, not 3 ImageJ channels. */
  rgb: boolean;
  calibration: { zStepUm?: number; timeStepS?: number; pixelWidthUm?: number; pixelHeightUm?: number };
  /** Display range (written for 16- and 32-bit data). */
  min?: number;
  max?: number;
}

function fmt(n: number): string {
  // ImageJ parses with Double.parseDouble; keep integers recognisably floating.
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

/**
 * The ImageDescription ImageJ writes for a hyperstack. Only fields that apply are
 * written; `hyperstack=true` only when more than one of c, z, t is above 1.
 */
export function formatImageJDescription(init: ImageJDescriptionInit): string {
  const c = init.rgb ? 1 : init.sizeC;
  const z = init.sizeZ;
  const t = init.sizeT;
  const images = c * z * t;
  const lines = [`ImageJ=${IMAGEJ_VERSION}`];
  if (images > 1) lines.push(`images=${images}`);
  if (c > 1) lines.push(`channels=${c}`);
  if (z > 1) lines.push(`slices=${z}`);
  if (t > 1) lines.push(`frames=${t}`);
  if ([c, z, t].filter((n) => n > 1).length > 1) lines.push('hyperstack=true');
  if (c > 1) lines.push(`mode=${c <= 7 ? 'composite' : 'grayscale'}`);
  const cal = init.calibration;
  const spatial = positive(cal.pixelWidthUm) !== undefined || positive(cal.pixelHeightUm) !== undefined || positive(cal.zStepUm) !== undefined;
  if (spatial) lines.push('unit=micron');
  if (spatial && positive(cal.zStepUm) !== undefined) lines.push(`spacing=${fmt(cal.zStepUm!)}`);
  if (positive(cal.timeStepS) !== undefined) lines.push(`finterval=${fmt(cal.timeStepS!)}`);
  if (images > 1) lines.push('loop=false');
  if (init.min !== undefined && init.max !== undefined && Number.isFinite(init.min) && Number.isFinite(init.max)) {
    lines.push(`min=${fmt(init.min)}`, `max=${fmt(init.max)}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * ImageJ's private metadata tags (TiffEncoder/TiffDecoder): IJMetadataByteCounts (50838, LONG)
 * and IJMetadata (50839, BYTE). The data is a header — the magic `IJIJ`, then per entry type a
 * 4-byte type code and a 4-byte count, both read as ints in the file's byte order — followed by
 * the entries; the byte counts give the header's size, then each entry's. Slice labels (`labl`)
 * are UTF-16 strings, one per image in the file: ImageJ shows the current plane's label in the
 * window's subtitle (`c:1/2 (DAPI)`), which is how Fiji shows channel names without OME.
 */
const IJ_MAGIC = 0x494a494a;
const IJ_LABELS = 0x6c61626c; // 'labl'

/** The IJMetadata entries holding one slice label per plane (in the file's plane order). */
export function encodeImageJLabels(labels: string[], littleEndian = true): { byteCounts: number[]; data: Uint8Array } {
  const header = 4 + 8; // magic, one (type, count) pair
  const sizes = labels.map((l) => 2 * l.length);
  const data = new Uint8Array(header + sizes.reduce((s, n) => s + n, 0));
  const dv = new DataView(data.buffer);
  dv.setUint32(0, IJ_MAGIC, littleEndian);
  dv.setUint32(4, IJ_LABELS, littleEndian);
  dv.setUint32(8, labels.length, littleEndian);
  let pos = header;
  for (const l of labels) {
    for (let i = 0; i < l.length; i++) dv.setUint16(pos + 2 * i, l.charCodeAt(i), littleEndian);
    pos += 2 * l.length;
  }
  return { byteCounts: [header, ...sizes], data };
}

/**
 * Slice labels from IJMetadata, or undefined when it holds none or does not parse (a bad header,
 * counts that do not add up): the labels are a courtesy, never a reason to refuse a file.
 */
export function decodeImageJLabels(data: Uint8Array, byteCounts: number[], littleEndian: boolean): string[] | undefined {
  if (byteCounts.length < 1 || data.length < 4) return undefined;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const headerSize = byteCounts[0];
  if (dv.getUint32(0, littleEndian) !== IJ_MAGIC || headerSize < 4 || headerSize > data.length || (headerSize - 4) % 8 !== 0) return undefined;
  let total = 0;
  for (const n of byteCounts) {
    if (!Number.isInteger(n) || n < 0) return undefined;
    total += n;
  }
  if (total > data.length) return undefined;
  let entry = 1; // index into byteCounts
  let pos = headerSize;
  for (let h = 4; h < headerSize; h += 8) {
    const type = dv.getUint32(h, littleEndian);
    const count = dv.getUint32(h + 4, littleEndian);
    if (entry + count > byteCounts.length) return undefined;
    if (type === IJ_LABELS) {
      const labels: string[] = [];
      for (let k = 0; k < count; k++) {
        const n = byteCounts[entry + k];
        let s = '';
        for (let i = 0; i + 1 < n; i += 2) s += String.fromCharCode(dv.getUint16(pos + i, littleEndian));
        labels.push(s);
        pos += n;
      }
      return labels;
    }
    for (let k = 0; k < count; k++) pos += byteCounts[entry + k];
    entry += count;
  }
  return undefined;
}
