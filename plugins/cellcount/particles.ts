/**
 * Particle labelling and measurement as ImageJ 1.53t's Analyze › Analyze Particles does it
 * (8-connected particles, traced outlines, "include holes", size and circularity ranges,
 * "exclude on edges"). Written from ImageJ's user documentation and from measurements of
 * ImageJ's results on test images (plugins/cellcount/fixtures/particles), not from its source.
 *
 * Coordinates: x = column, y = row, origin at the top-left corner of the image; outline
 * vertices lie on pixel corners (integers 0…width, 0…height); centroids are means of pixel
 * centres (x + 0.5, y + 0.5), as ImageJ reports them.
 */
import { FocalError, type PixelArray } from '../../core/index.js';
import { floodFillFromBorder } from '../../core/imaging.js';

/** Options of {@link analyzeParticles}; all sizes in pixels. */
export interface ParticleOptions {
  /** Smallest particle area kept, px (inclusive; default 0). */
  minAreaPx?: number;
  /** Largest particle area kept, px (inclusive; default Infinity). */
  maxAreaPx?: number;
  /** Smallest circularity kept, 0…1 (inclusive; default 0). */
  minCircularity?: number;
  /** Largest circularity kept, 0…1 (inclusive; default 1). */
  maxCircularity?: number;
  /** Drop particles whose bounding box touches the image border (default false). */
  excludeEdges?: boolean;
  /**
   * true: a particle is everything inside its traced outer outline (interior holes and any
   * particles lying in them are part of it, and those are not counted on their own).
   * false (default): a particle is its 8-connected pixels; holes are excluded and particles
   * inside holes are counted separately.
   */
  includeHoles?: boolean;
  /** Fill the label image (default true); false leaves `labels` empty (length 0) and saves its memory. */
  labels?: boolean;
}

/** One measured particle. Lengths and areas in pixels. */
export interface Particle {
  /** 1-based label in the label image (accepted particles only, in ImageJ's order). */
  label: number;
  /** Number of pixels (including holes when `includeHoles`). */
  areaPx: number;
  /** Length of the traced outer outline, ImageJ's corner-corrected definition ({@link tracedPerimeter}). */
  perimeterPx: number;
  /** 4π·area/perimeter², at most 1 (as ImageJ). */
  circularity: number;
  /** Centroid, px (mean of pixel centres). */
  centroidXPx: number;
  centroidYPx: number;
  /** Bounding box: left column, top row, width and height, px. */
  bx: number;
  by: number;
  width: number;
  height: number;
  /** Mean, minimum and maximum of the intensity image over the particle's pixels (NaN pixels ignored; NaN when there is none). */
  mean: number;
  min: number;
  max: number;
  /** Vertices of the traced outer outline in ImageJ's order (x0, y0, x1, y1, …), pixel-corner coordinates. */
  outline: Int32Array;
}

export interface ParticleResult {
  particles: Particle[];
  /**
   * Label image (0 = background, k = particle with label k), width·height: Uint16Array while
   * there are at most 65 535 particles, else Int32Array; empty when options.labels is false.
   */
  labels: Uint16Array | Int32Array;
}

function checkPlane(name: string, length: number, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new FocalError('E_ARGUMENT', `width, height: must be positive integers, got ${width}×${height}`);
  }
  if (length !== width * height) throw new FocalError('E_ARGUMENT', `${name}: has ${length} pixels, expected ${width}×${height} = ${width * height}`);
}

/**
 * Traces the outer outline of the 8-connected particle whose top-left pixel (first in raster
 * order) is (x0, y0), along pixel edges with the particle on the right-hand side (clockwise on
 * screen), as ImageJ's wand does for a thresholded particle; where the particle touches itself
 * diagonally the outline passes through the shared corner. Only corners (direction changes)
 * are returned, starting where ImageJ's polygon starts (the third corner after the top-left
 * corner of (x0, y0)).
 *
 * @param mask Non-zero = particle pixel, width·height.
 * @returns Vertices as x0, y0, x1, y1, … (pixel-corner coordinates).
 * @throws FocalError `E_ARGUMENT` when (x0, y0) is not a particle pixel whose upper and left neighbours are background.
 */
export function traceOutline(mask: ArrayLike<number>, width: number, height: number, x0: number, y0: number): Int32Array {
  checkPlane('mask', mask.length, width, height);
  const fg = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] !== 0;
  if (!fg(x0, y0) || fg(x0, y0 - 1) || fg(x0 - 1, y0)) {
    throw new FocalError('E_ARGUMENT', `x0, y0: (${x0}, ${y0}) is not the top-left pixel of a particle`);
  }
  const xs: number[] = [];
  const ys: number[] = [];
  let vx = x0;
  let vy = y0;
  let d = 0; // 0 right, 1 down, 2 left, 3 up (screen)
  xs.push(vx);
  ys.push(vy);
  const DX = [1, 0, -1, 0];
  const DY = [0, 1, 0, -1];
  for (;;) {
    vx += DX[d];
    vy += DY[d];
    // the two pixels ahead of the vertex, to the left and right of the direction of travel
    let l: boolean;
    let r: boolean;
    switch (d) {
      case 0: l = fg(vx, vy - 1); r = fg(vx, vy); break;
      case 1: l = fg(vx, vy); r = fg(vx - 1, vy); break;
      case 2: l = fg(vx - 1, vy); r = fg(vx - 1, vy - 1); break;
      default: l = fg(vx - 1, vy - 1); r = fg(vx, vy - 1); break;
    }
    const nd = l ? (d + 3) & 3 : r ? d : (d + 1) & 3;
    if (vx === x0 && vy === y0) break;
    if (nd !== d) {
      xs.push(vx);
      ys.push(vy);
      d = nd;
    }
  }
  const n = xs.length;
  const out = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const k = (i + 2) % n;
    out[2 * i] = xs[k];
    out[2 * i + 1] = ys[k];
  }
  return out;
}

/**
 * ImageJ's perimeter of a traced (wand) outline: the length of the pixel-edge polygon less a
 * correction at corners, `Σ|dx| + Σ|dy| − nCorners·(2 − √2)`. Walking the vertices in order, a
 * vertex counts as a corner when the side arriving at it is longer than one pixel or the
 * previous vertex did not count; so a staircase of unit steps is measured as its diagonal
 * (one corner cut per step) and an axis-aligned rectangle loses (2 − √2) at each of its 4
 * corners. ImageJ documents the method as "corner counting" (Analyze › Set Measurements,
 * Perimeter, since 1.44f).
 *
 * @param outline Vertices x0, y0, x1, y1, … in the order {@link traceOutline} returns them.
 * @param pixelWidth Pixel width (default 1); sides along x are scaled by it.
 * @param pixelHeight Pixel height (default `pixelWidth`); sides along y are scaled by it.
 */
export function tracedPerimeter(outline: ArrayLike<number>, pixelWidth = 1, pixelHeight = pixelWidth): number {
  const n = outline.length >> 1;
  if (n === 0) return 0;
  let sumDx = 0;
  let sumDy = 0;
  let corners = 0;
  let previousCounted = false;
  let px = outline[2 * (n - 1)];
  let py = outline[2 * (n - 1) + 1];
  for (let i = 0; i < n; i++) {
    const x = outline[2 * i];
    const y = outline[2 * i + 1];
    const side = Math.abs(x - px) + Math.abs(y - py);
    sumDx += Math.abs(x - px);
    sumDy += Math.abs(y - py);
    if (side > 1 || !previousCounted) {
      corners++;
      previousCounted = true;
    } else {
      previousCounted = false;
    }
    px = x;
    py = y;
  }
  // for square pixels the cut is (2 − √2) per corner; scaled by the pixel size otherwise
  const cut = pixelWidth + pixelHeight - Math.hypot(pixelWidth, pixelHeight);
  return sumDx * pixelWidth + sumDy * pixelHeight - corners * cut;
}

/**
 * Labels connected components of the non-zero pixels of `mask`.
 *
 * @param connectivity 8 (default, as ImageJ's particle analyser) or 4.
 * @returns Labels 1…count in raster order of each component's first pixel (0 = background).
 */
export function labelComponents(mask: ArrayLike<number>, width: number, height: number, connectivity: 4 | 8 = 8): { labels: Int32Array; count: number } {
  checkPlane('mask', mask.length, width, height);
  if (connectivity !== 4 && connectivity !== 8) throw new FocalError('E_ARGUMENT', `connectivity: must be 4 or 8, got ${String(connectivity)}`);
  const n = width * height;
  const labels = new Int32Array(n);
  const stack = new Int32Array(n);
  let count = 0;
  for (let start = 0; start < n; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    count++;
    labels[start] = count;
    let top = 0;
    stack[top++] = start;
    while (top > 0) {
      const p = stack[--top];
      const x = p % width;
      const y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          if ((dx === 0 && dy === 0) || (connectivity === 4 && dx !== 0 && dy !== 0)) continue;
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const q = yy * width + xx;
          if (mask[q] !== 0 && labels[q] === 0) {
            labels[q] = count;
            stack[top++] = q;
          }
        }
      }
    }
  }
  return { labels, count };
}

/**
 * Analyze Particles: finds the 8-connected particles of `mask` in raster order of their
 * top-left pixel, measures each, and keeps those within the size and circularity ranges
 * (and off the border when `excludeEdges`), as ImageJ 1.53t does.
 *
 * @param mask Non-zero = foreground (thresholded) pixel, width·height; not modified.
 * @param intensity Image the mean/min/max are measured on (same size), e.g. the original grey
 *   image; when omitted they are measured on `mask`.
 * @throws FocalError `E_ARGUMENT` when sizes disagree or a range is inverted.
 */
export function analyzeParticles(
  mask: ArrayLike<number>,
  width: number,
  height: number,
  intensity?: PixelArray | ArrayLike<number>,
  options: ParticleOptions = {},
): ParticleResult {
  checkPlane('mask', mask.length, width, height);
  if (intensity !== undefined) checkPlane('intensity', intensity.length, width, height);
  const minArea = options.minAreaPx ?? 0;
  const maxArea = options.maxAreaPx ?? Infinity;
  const minCirc = options.minCircularity ?? 0;
  const maxCirc = options.maxCircularity ?? 1;
  if (!(minArea <= maxArea)) throw new FocalError('E_ARGUMENT', `minAreaPx: ${minArea} is larger than maxAreaPx ${maxArea}`, { field: 'minAreaPx' });
  if (!(minCirc <= maxCirc)) throw new FocalError('E_ARGUMENT', `minCircularity: ${minCirc} is larger than maxCircularity ${maxCirc}`, { field: 'minCircularity' });
  const includeHoles = options.includeHoles ?? false;
  const excludeEdges = options.excludeEdges ?? false;
  const values = intensity ?? mask;

  const n = width * height;
  // padded copy: 1 = unvisited foreground, 0 = background/visited; a 1-px frame of 0 removes bounds checks
  const pw = width + 2;
  const padded = pw * (height + 2);
  const work = new Uint8Array((padded + 3) & ~3); // length a multiple of 4 for the word scan below
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const prow = (y + 1) * pw + 1;
    if (mask instanceof Uint8Array) work.set(mask.subarray(row, row + width), prow);
    else for (let x = 0; x < width; x++) if (mask[row + x] !== 0) work[prow + x] = 1;
  }
  const words = new Uint32Array(work.buffer, work.byteOffset, work.length >> 2);
  const wantLabels = options.labels ?? true;
  let labels: Uint16Array | Int32Array = new Uint16Array(wantLabels ? n : 0);
  // work lists, grown on demand (a particle rarely needs more than a small part of the image)
  let stack = new Int32Array(Math.min(n + 8, 1 << 16));
  let pixels = new Int32Array(Math.min(n, 1 << 16)); // pixels of the current particle (unpadded indices)
  const grow = (a: Int32Array<ArrayBuffer>, need: number): Int32Array<ArrayBuffer> => {
    const b = new Int32Array(Math.max(need, a.length * 2));
    b.set(a);
    return b;
  };
  const particles: Particle[] = [];
  const circFilter = minCirc > 0 || maxCirc < 1;
  const offsets = [-pw - 1, -pw, -pw + 1, -1, 1, pw - 1, pw, pw + 1];
  const [o0, o1, o2, o3, o4, o5, o6, o7] = offsets;

  // raster scan of the padded buffer (its frame is 0), skipping four background bytes at a time
  for (let pstart = 0; pstart < padded; pstart++) {
    if ((pstart & 3) === 0) {
      while (pstart < padded && words[pstart >> 2] === 0) pstart += 4;
      if (pstart >= padded) break;
    }
    if (work[pstart] === 0) continue;
    const y0 = ((pstart / pw) | 0) - 1;
    const x0 = pstart - (y0 + 1) * pw - 1;
    // 8-connected flood fill of the component
    let count = 0;
    let top = 0;
    let minX = x0;
    let maxX = x0;
    const minY = y0;
    let maxY = y0;
    work[pstart] = 0;
    stack[top++] = pstart;
    while (top > 0) {
      if (top + 8 > stack.length) stack = grow(stack, top + 8);
      if (count >= pixels.length) pixels = grow(pixels, count + 1);
      const q = stack[--top];
      const py = (q / pw) | 0;
      const px = q - py * pw;
      const x = px - 1;
      const y = py - 1;
      pixels[count++] = y * width + x;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y > maxY) maxY = y;
      let r = q + o0; if (work[r] !== 0) { work[r] = 0; stack[top++] = r; }
      r = q + o1; if (work[r] !== 0) { work[r] = 0; stack[top++] = r; }
      r = q + o2; if (work[r] !== 0) { work[r] = 0; stack[top++] = r; }
      r = q + o3; if (work[r] !== 0) { work[r] = 0; stack[top++] = r; }
      r = q + o4; if (work[r] !== 0) { work[r] = 0; stack[top++] = r; }
      r = q + o5; if (work[r] !== 0) { work[r] = 0; stack[top++] = r; }
      r = q + o6; if (work[r] !== 0) { work[r] = 0; stack[top++] = r; }
      r = q + o7; if (work[r] !== 0) { work[r] = 0; stack[top++] = r; }
    }
    if (includeHoles) {
      const box = (maxX - minX + 1) * (maxY - minY + 1);
      if (stack.length < box) stack = grow(stack, box);
      if (pixels.length < count + box) pixels = grow(pixels, count + box);
      count = fillEnclosed(pixels, count, width, minX, minY, maxX, maxY, work, pw, stack);
    }

    const outline = traceOutline(mask, width, height, x0, y0);
    const perimeter = tracedPerimeter(outline);
    const circ = perimeter === 0 ? 0 : Math.min(1, (4 * Math.PI * count) / (perimeter * perimeter));
    if (count < minArea || count > maxArea) continue;
    if (circFilter && (circ < minCirc || circ > maxCirc)) continue;
    if (excludeEdges && (minX === 0 || minY === 0 || maxX === width - 1 || maxY === height - 1)) continue;

    const label = particles.length + 1;
    if (label === 65536 && wantLabels) labels = Int32Array.from(labels);
    let sx = 0;
    let sy = 0;
    let sum = 0;
    let finite = 0;
    let vmin = Infinity;
    let vmax = -Infinity;
    for (let i = 0; i < count; i++) {
      const p = pixels[i];
      if (wantLabels) labels[p] = label;
      const x = p % width;
      sx += x;
      sy += (p - x) / width;
      const v = values[p];
      if (v === v) {
        sum += v;
        finite++;
        if (v < vmin) vmin = v;
        if (v > vmax) vmax = v;
      }
    }
    particles.push({
      label,
      areaPx: count,
      perimeterPx: perimeter,
      circularity: circ,
      centroidXPx: sx / count + 0.5,
      centroidYPx: sy / count + 0.5,
      bx: minX,
      by: minY,
      width: maxX - minX + 1,
      height: maxY - minY + 1,
      mean: finite > 0 ? sum / finite : NaN,
      min: finite > 0 ? vmin : NaN,
      max: finite > 0 ? vmax : NaN,
      outline,
    });
  }
  return { particles, labels };
}

/**
 * Adds to `pixels` (the component, `count` entries) every pixel its outer outline encloses:
 * pixels of the bounding box not reachable from outside the box through 4-connected
 * non-component pixels. Marks them as consumed in the padded `work` buffer. Returns the new count.
 */
function fillEnclosed(
  pixels: Int32Array, count: number, width: number,
  minX: number, minY: number, maxX: number, maxY: number, work: Uint8Array, pw: number, stack: Int32Array,
): number {
  const bw = maxX - minX + 1;
  const bh = maxY - minY + 1;
  if (bw < 3 || bh < 3) return count;
  // 0 = unknown, 1 = component, 2 = outside
  const box = new Uint8Array(bw * bh);
  for (let i = 0; i < count; i++) {
    const p = pixels[i];
    const x = p % width;
    box[((p - x) / width - minY) * bw + (x - minX)] = 1;
  }
  markEnclosed(box, bw, bh, stack);
  for (let i = 0; i < box.length; i++) {
    if (box[i] !== 0) continue;
    const x = i % bw;
    const y = (i - x) / bw + minY;
    pixels[count++] = y * width + x + minX;
    work[(y + 1) * pw + x + minX + 1] = 0; // enclosed foreground is consumed (not a particle of its own)
  }
  return count;
}

/**
 * A particle's holes ("include holes"): in `box` (its bounding box, `bw` × `bh`, 1 = its own
 * pixels, 0 = any other), sets every pixel reachable from the box's border through 4-connected
 * non-particle pixels to 2; the pixels left 0 are what its outer outline encloses (holes and
 * anything lying in them). In place; returns how many are enclosed.
 */
export function markEnclosed(box: Uint8Array, bw: number, bh: number, stack?: Int32Array): number {
  if (box.length !== bw * bh) throw new FocalError('E_ARGUMENT', `box: ${box.length} values for a ${bw}×${bh} box`, { field: 'box' });
  let ones = 0;
  for (let i = 0; i < box.length; i++) if (box[i] === 1) ones++;
  return box.length - ones - floodFillFromBorder(box, bw, bh, 2, stack);
}

/**
 * Pixels on the inner border of each labelled particle: label k where a 4-neighbour (or the
 * image border) is not k, else 0. Used to draw outlines.
 */
export function labelOutlines(labels: ArrayLike<number>, width: number, height: number): Int32Array {
  checkPlane('labels', labels.length, width, height);
  const out = new Int32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const k = labels[i];
      if (k === 0) continue;
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1 || labels[i - 1] !== k || labels[i + 1] !== k || labels[i - width] !== k || labels[i + width] !== k) {
        out[i] = k;
      }
    }
  }
  return out;
}
