import { FocalError } from '../../errors.js';
import { lengthUnitToUm, positive, timeUnitToS } from './units.js';

/**
 * A small XML reader for OME-XML: elements, attributes, text, comments, processing
 * instructions and CDATA. No DTDs or external entities (OME-XML uses none); the five
 * predefined entities and numeric character references are decoded.
 */
export interface XmlElement {
  /** Local name (namespace prefix removed). */
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    }
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[e];
  });
}

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i >= 0 ? qname.slice(i + 1) : qname;
}

const ATTR = /([^\s=/>]+)\s*=\s*("([^"]*)"|'([^']*)')/g;

export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  const n = xml.length;
  const fail = (msg: string): never => {
    throw new FocalError('E_FORMAT', `malformed XML at character ${i}: ${msg}`);
  };
  while (i < n) {
    const lt = xml.indexOf('<', i);
    const top = stack[stack.length - 1];
    if (lt < 0) {
      top.text += decodeEntities(xml.slice(i));
      break;
    }
    if (lt > i) top.text += decodeEntities(xml.slice(i, lt));
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
    } else if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i + 9);
      if (end < 0) fail('unterminated CDATA');
      top.text += xml.slice(i + 9, end);
      i = end + 3;
    } else if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i + 2);
      if (end < 0) fail('unterminated processing instruction');
      i = end + 2;
    } else if (xml.startsWith('<!', i)) {
      const end = xml.indexOf('>', i + 2);
      if (end < 0) fail('unterminated declaration');
      i = end + 1;
    } else if (xml.startsWith('</', i)) {
      const end = xml.indexOf('>', i + 2);
      if (end < 0) fail('unterminated end tag');
      const name = localName(xml.slice(i + 2, end).trim());
      if (stack.length < 2 || top.name !== name) fail(`unexpected </${name}>`);
      stack.pop();
      i = end + 1;
    } else {
      // Start tag: find the closing '>' outside quoted attribute values.
      let j = i + 1;
      let quote = '';
      while (j < n) {
        const ch = xml[j];
        if (quote) {
          if (ch === quote) quote = '';
        } else if (ch === '"' || ch === "'") {
          quote = ch;
        } else if (ch === '>') {
          break;
        }
        j++;
      }
      if (j >= n) fail('unterminated start tag');
      let body = xml.slice(i + 1, j);
      const selfClosing = body.endsWith('/');
      if (selfClosing) body = body.slice(0, -1);
      const m = /^([^\s/>]+)/.exec(body);
      if (!m) fail('empty tag name');
      const el: XmlElement = { name: localName(m![1]), attrs: {}, children: [], text: '' };
      ATTR.lastIndex = m![1].length;
      let a: RegExpExecArray | null;
      while ((a = ATTR.exec(body)) !== null) el.attrs[localName(a[1])] = decodeEntities(a[3] ?? a[4] ?? '');
      top.children.push(el);
      if (!selfClosing) stack.push(el);
      i = j + 1;
    }
  }
  if (stack.length > 1) fail(`<${stack[stack.length - 1].name}> is never closed`);
  return root;
}

function* descendants(el: XmlElement, name: string): Generator<XmlElement> {
  for (const c of el.children) {
    if (c.name === name) yield c;
    yield* descendants(c, name);
  }
}

function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export interface OmeTiffData {
  /** First IFD (0-based) in the file. */
  ifd: number;
  /** Number of planes; undefined when the attribute is absent. */
  planeCount: number | undefined;
  firstC: number;
  firstZ: number;
  firstT: number;
  /** File holding the IFDs (UUID FileName); undefined = the file holding the XML. */
  fileName: string | undefined;
  uuid: string | undefined;
}

export interface OmeChannel {
  name?: string;
  samplesPerPixel?: number;
}

export interface OmeImage {
  id?: string;
  name?: string;
  acquisitionDate?: string;
  /** e.g. XYCZT: the dimension after XY varies fastest. */
  dimensionOrder: string;
  type?: string;
  sizeX: number;
  sizeY: number;
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  /** In µm (converted from PhysicalSize?Unit, default µm). */
  physicalSizeX?: number;
  physicalSizeY?: number;
  physicalSizeZ?: number;
  /** In seconds (converted from TimeIncrementUnit, default s). */
  timeIncrement?: number;
  channels: OmeChannel[];
  tiffData: OmeTiffData[];
}

export interface OmeMetadata {
  uuid?: string;
  creator?: string;
  images: OmeImage[];
  /** Set when the file only points to a companion metadata file. */
  binaryOnly?: { metadataFile?: string };
}

export const DIMENSION_ORDERS = ['XYCZT', 'XYCTZ', 'XYZCT', 'XYZTC', 'XYTCZ', 'XYTZC'] as const;

export function isOmeXml(text: string | undefined): text is string {
  if (text === undefined) return false;
  const head = text.trimStart();
  return (head.startsWith('<?xml') || head.startsWith('<')) && /<(\w+:)?OME[\s>]/.test(text);
}

function intAttr(v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : NaN;
}

function length(v: string | undefined, unit: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const f = lengthUnitToUm(unit ?? '\u00b5m');
  const x = positive(Number(v));
  return f !== undefined && x !== undefined ? x * f : undefined;
}

/** Parses OME-XML; E_FORMAT (without a file name; the caller adds it) when it is not well-formed or lacks Pixels sizes. */
export function parseOmeXml(xml: string): OmeMetadata {
  const doc = parseXml(xml);
  const ome = [...descendants(doc, 'OME')][0];
  if (!ome) throw new FocalError('E_FORMAT', 'no OME element in the XML');
  const meta: OmeMetadata = { uuid: ome.attrs.UUID, creator: ome.attrs.Creator, images: [] };
  const bin = child(ome, 'BinaryOnly');
  if (bin) meta.binaryOnly = { metadataFile: bin.attrs.MetadataFile };
  for (const img of ome.children.filter((c) => c.name === 'Image')) {
    const px = child(img, 'Pixels');
    if (!px) continue;
    const a = px.attrs;
    const size = (k: string): number => {
      const v = Number(a[k] ?? '1');
      if (!Number.isInteger(v) || v < 1) throw new FocalError('E_FORMAT', `OME Pixels ${k}="${a[k]}" is not a positive integer`);
      return v;
    };
    const order = (a.DimensionOrder ?? 'XYCZT').toUpperCase();
    if (!(DIMENSION_ORDERS as readonly string[]).includes(order)) throw new FocalError('E_FORMAT', `OME DimensionOrder "${a.DimensionOrder}" is not valid`);
    const channels: OmeChannel[] = px.children.filter((c) => c.name === 'Channel').map((c) => {
      const spp = Number(c.attrs.SamplesPerPixel);
      return { name: c.attrs.Name, samplesPerPixel: Number.isInteger(spp) && spp > 0 ? spp : undefined };
    });
    const tiffData: OmeTiffData[] = px.children.filter((c) => c.name === 'TiffData').map((t) => {
      const uuidEl = child(t, 'UUID');
      const pc = t.attrs.PlaneCount;
      return {
        ifd: intAttr(t.attrs.IFD, 0),
        planeCount: pc === undefined ? undefined : intAttr(pc, 0),
        firstC: intAttr(t.attrs.FirstC, 0),
        firstZ: intAttr(t.attrs.FirstZ, 0),
        firstT: intAttr(t.attrs.FirstT, 0),
        fileName: uuidEl?.attrs.FileName,
        uuid: uuidEl?.text.trim() || undefined,
      };
    });
    const ti = a.TimeIncrement !== undefined ? positive(Number(a.TimeIncrement)) : undefined;
    const tf = timeUnitToS(a.TimeIncrementUnit ?? 's');
    meta.images.push({
      id: img.attrs.ID,
      name: img.attrs.Name,
      acquisitionDate: child(img, 'AcquisitionDate')?.text.trim() || undefined,
      dimensionOrder: order,
      type: a.Type,
      sizeX: size('SizeX'),
      sizeY: size('SizeY'),
      sizeC: size('SizeC'),
      sizeZ: size('SizeZ'),
      sizeT: size('SizeT'),
      physicalSizeX: length(a.PhysicalSizeX, a.PhysicalSizeXUnit),
      physicalSizeY: length(a.PhysicalSizeY, a.PhysicalSizeYUnit),
      physicalSizeZ: length(a.PhysicalSizeZ, a.PhysicalSizeZUnit),
      timeIncrement: ti !== undefined && tf !== undefined ? ti * tf : undefined,
      channels,
      tiffData,
    });
  }
  return meta;
}

/** (c, z, t) of the `index`-th plane in `order` (sizes in planes; c already divided by samples per pixel). */
export function positionInOrder(order: string, index: number, sizes: { c: number; z: number; t: number }): { c: number; z: number; t: number } {
  const dims = order.slice(2).toLowerCase().split('') as ('c' | 'z' | 't')[];
  const pos = { c: 0, z: 0, t: 0 };
  let rest = index;
  for (const d of dims) {
    pos[d] = rest % sizes[d];
    rest = Math.floor(rest / sizes[d]);
  }
  return pos;
}

/** Inverse of positionInOrder. */
export function indexInOrder(order: string, pos: { c: number; z: number; t: number }, sizes: { c: number; z: number; t: number }): number {
  const dims = order.slice(2).toLowerCase().split('') as ('c' | 'z' | 't')[];
  let index = 0;
  let mul = 1;
  for (const d of dims) {
    index += pos[d] * mul;
    mul *= sizes[d];
  }
  return index;
}

// ------------------------------------------------------------------------------------------------
// Writing: the OME-XML of a single-file OME-TIFF (write.ts, option `ome`)

const xmlAttr = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const OME_PIXEL_TYPE: Record<string, string> = { uint8: 'uint8', uint16: 'uint16', float32: 'float' };

/** What formatOmeXml needs of a stack (core/data/stack.ts's Stack has it). */
export interface OmeXmlStack {
  width: number;
  height: number;
  dtype: string;
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  rgb: boolean;
  channelNames: string[];
  calibration: { pixelWidthUm?: number; pixelHeightUm?: number; zStepUm?: number; timeStepS?: number };
}

/**
 * OME-XML (2016-06 schema) for a stack written as one OME-TIFF file with one IFD per plane in
 * XYCZT order (one IFD per z/t position for RGB, whose channel has 3 samples per pixel):
 * channel names, pixel size and z step in µm, time increment in s. `name` is the Image name.
 */
export function formatOmeXml(stack: OmeXmlStack, name = 'image'): string {
  const type = OME_PIXEL_TYPE[stack.dtype];
  if (!type) throw new FocalError('E_ARGUMENT', `OME-TIFF: pixel type ${stack.dtype} has no OME name`);
  const cal = stack.calibration;
  const attrs: string[] = [
    'ID="Pixels:0"', 'DimensionOrder="XYCZT"', `Type="${type}"`, `SizeX="${stack.width}"`, `SizeY="${stack.height}"`,
    `SizeC="${stack.sizeC}"`, `SizeZ="${stack.sizeZ}"`, `SizeT="${stack.sizeT}"`, 'BigEndian="false"', 'Interleaved="true"',
  ];
  // 12 significant digits: a size read back from a TIFF rational (1/x) prints as 0.325, not 0.32499999999999996
  const tidy = (v: number | undefined) => (v === undefined ? undefined : Number(v.toPrecision(12)));
  const pw = tidy(positive(cal.pixelWidthUm)), ph = tidy(positive(cal.pixelHeightUm)) ?? pw;
  if (pw !== undefined) attrs.push(`PhysicalSizeX="${pw}"`, 'PhysicalSizeXUnit="\u00b5m"');
  if (ph !== undefined) attrs.push(`PhysicalSizeY="${ph}"`, 'PhysicalSizeYUnit="\u00b5m"');
  const pz = tidy(positive(cal.zStepUm));
  if (pz !== undefined) attrs.push(`PhysicalSizeZ="${pz}"`, 'PhysicalSizeZUnit="\u00b5m"');
  const dt = tidy(positive(cal.timeStepS));
  if (dt !== undefined) attrs.push(`TimeIncrement="${dt}"`, 'TimeIncrementUnit="s"');
  const channel = (c: number, samples: number) => {
    const n = stack.channelNames[c];
    return `<Channel ID="Channel:0:${c}"${n ? ` Name="${xmlAttr(n)}"` : ''} SamplesPerPixel="${samples}"><LightPath/></Channel>`;
  };
  const channels = stack.rgb ? [channel(0, 3)] : Array.from({ length: stack.sizeC }, (_, c) => channel(c, 1));
  const ifds = stack.rgb ? stack.sizeZ * stack.sizeT : stack.sizeC * stack.sizeZ * stack.sizeT;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
    'xsi:schemaLocation="http://www.openmicroscopy.org/Schemas/OME/2016-06 http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd" Creator="Focal">' +
    `<Image ID="Image:0" Name="${xmlAttr(name)}"><Pixels ${attrs.join(' ')}>${channels.join('')}<TiffData IFD="0" PlaneCount="${ifds}"/></Pixels></Image></OME>`
  );
}
