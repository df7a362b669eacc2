/**
 * Test support: reads the ImageJ agreement fixtures (plugins/cellcount/fixtures/particles,
 * made by scripts/make-particle-fixtures.sh) and measures the same cases with Focal, so that
 * the committed-fixture test and the live ImageJ test compare the same things.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTiff, type PixelArray } from '../../core/index.js';
import { applyThreshold } from './threshold.js';
import { analyzeParticles, type Particle } from './particles.js';

/** One Analyze Particles case of cases.tsv. */
export interface ParticleCase {
  name: string;
  image: string;
  lower: number;
  upper: number;
  minSize: number;
  maxSize: number;
  minCirc: number;
  maxCirc: number;
  exclude: boolean;
  include: boolean;
}

/** A row of ImageJ's results table (the columns the macro saves). */
export type ImageJRow = Record<'Area' | 'Perim.' | 'Circ.' | 'X' | 'Y' | 'BX' | 'BY' | 'Width' | 'Height' | 'Mean' | 'Min' | 'Max', number>;

function parseTsv(text: string): Record<string, string>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0].split('\t');
  return lines.slice(1).map((l) => {
    const v = l.split('\t');
    return Object.fromEntries(header.map((h, i) => [h, v[i]]));
  });
}

export function readCases(dir: string): ParticleCase[] {
  return parseTsv(readFileSync(join(dir, 'cases.tsv'), 'utf8')).map((r) => ({
    name: r.name,
    image: r.image,
    lower: Number(r.lower),
    upper: Number(r.upper),
    minSize: Number(r.minSize),
    maxSize: r.maxSize === 'Infinity' ? Infinity : Number(r.maxSize),
    minCirc: Number(r.minCirc),
    maxCirc: Number(r.maxCirc),
    exclude: r.exclude === '1',
    include: r.include === '1',
  }));
}

export function readImageJParticles(file: string): ImageJRow[] {
  return parseTsv(readFileSync(file, 'utf8')).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)])) as ImageJRow);
}

export function readImageJSummary(file: string): Map<string, { count: number; totalArea: number; percentArea: number }> {
  return new Map(parseTsv(readFileSync(file, 'utf8')).map((r) => [r.name, { count: Number(r.count), totalArea: Number(r.totalArea), percentArea: Number(r.percentArea) }]));
}

export async function readPlane(file: string): Promise<{ data: PixelArray; width: number; height: number }> {
  const s = await readTiff(file);
  return { data: s.planes[0], width: s.width, height: s.height };
}

/** Focal's particles for a case: threshold [lower, upper] then analyzeParticles with the case's options. */
export async function focalParticles(dir: string, c: ParticleCase): Promise<{ particles: Particle[]; width: number; height: number }> {
  const { data, width, height } = await readPlane(join(dir, c.image));
  const mask = applyThreshold(data, c.lower, c.upper);
  const { particles } = analyzeParticles(mask, width, height, data, {
    minAreaPx: c.minSize,
    maxAreaPx: c.maxSize,
    minCircularity: c.minCirc,
    maxCircularity: c.maxCirc,
    excludeEdges: c.exclude,
    includeHoles: c.include,
  });
  return { particles, width, height };
}

/** Largest differences between Focal's particles and ImageJ's rows (same order), or a reason they cannot be paired. */
export function compareParticles(focal: Particle[], imagej: ImageJRow[]): { mismatch?: string; perimeter: number; circularity: number; centroid: number; mean: number } {
  const diff = { perimeter: 0, circularity: 0, centroid: 0, mean: 0 };
  if (focal.length !== imagej.length) return { mismatch: `count ${focal.length} vs ImageJ ${imagej.length}`, ...diff };
  for (let i = 0; i < focal.length; i++) {
    const f = focal[i];
    const r = imagej[i];
    if (f.areaPx !== r.Area || f.bx !== r.BX || f.by !== r.BY || f.width !== r.Width || f.height !== r.Height || f.min !== r.Min || f.max !== r.Max) {
      return { mismatch: `particle ${i + 1}: area/bbox/min/max ${JSON.stringify([f.areaPx, f.bx, f.by, f.width, f.height, f.min, f.max])} vs ImageJ ${JSON.stringify([r.Area, r.BX, r.BY, r.Width, r.Height, r.Min, r.Max])}`, ...diff };
    }
    diff.perimeter = Math.max(diff.perimeter, Math.abs(f.perimeterPx - r['Perim.']));
    diff.circularity = Math.max(diff.circularity, Math.abs(f.circularity - r['Circ.']));
    diff.centroid = Math.max(diff.centroid, Math.abs(f.centroidXPx - r.X), Math.abs(f.centroidYPx - r.Y));
    diff.mean = Math.max(diff.mean, Math.abs(f.mean - r.Mean));
  }
  return diff;
}
