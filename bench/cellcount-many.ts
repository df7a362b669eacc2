/**
 * A count with a slide's number of particles: a million nuclei-sized objects in one plane,
 * counted by `focal run` streamed (tile by tile, under a small --memory-mb) and in memory, next
 * to ImageJ 1.x headless doing the same count and saving its results table, each one process
 * under /usr/bin/time (wall, CPU, peak RSS). The objects tables are checked to have one row per
 * particle. What it measures is the tables' path: the count, the rows, the CSV and JSON written.
 * Writes the section between <!-- bench:cellcount-many --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/cellcount-many.js [--size N] [--memory-mb N] [--no-docs]
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createStack, stackRegionSource, writePyramidalTiff, writeTiff } from '../core/index.js';
import { imagejCountMacro } from './cellcount.js';
import { describeMachine, formatLoad, isMain, isoDate, machineInfo, runBenchMain, timedProcess, writeBenchDocs, type TimedProcess } from './common.js';

export interface ManyParticlesOptions {
  /** Image side, px (default 8000: 1 000 000 particles). */
  size?: number;
  /** --memory-mb of the streamed run (default 256). */
  memoryMb?: number;
  dataDir?: string;
  docsPath?: string;
  writeDocs?: boolean;
  imagejJar?: string;
  log?: (message: string) => void;
}

/** Grid pitch, px: one 4 × 4 px particle per 8 × 8 px cell. */
const PITCH = 8;

/**
 * A uint8 plane of (size / 8)² square particles of 4 × 4 px (values 150–199) on a textured
 * background (20–28): many particles, each as small as a nucleus at low magnification.
 */
export function particleGrid(size: number): Uint8Array {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) data[y * size + x] = x % PITCH < 4 && y % PITCH < 4 ? 150 + ((x * 7 + y * 13) % 50) : 20 + ((x * 3 + y * 5) % 9);
  }
  return data;
}

async function lines(file: string): Promise<number> {
  const text = await readFile(file);
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text[i] === 10) n++;
  return n;
}

export async function runManyParticlesBench(options: ManyParticlesOptions = {}): Promise<{ markdown: string }> {
  const size = options.size ?? 8000;
  const memoryMb = options.memoryMb ?? 256;
  const log = options.log ?? ((m: string) => console.log(m));
  const dataDir = resolve(options.dataDir ?? join('bench', 'data', 'cellcount-many'));
  const jar = options.imagejJar ?? process.env.IMAGEJ_JAR ?? '/usr/share/java/ij.jar';
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, `grid-${size}.tif`);
  const image = createStack({ width: size, height: size, dtype: 'uint8', planes: [particleGrid(size)] });
  await writeTiff(file, image);
  // the same pixels as a slide scanner lays them out: 512-px tiles, deflate, a pyramid
  const tiledFile = join(dataDir, `grid-${size}-tiled.tif`);
  await writePyramidalTiff(tiledFile, stackRegionSource(image), { tileSize: 512 });
  const particles = Math.ceil(size / PITCH) ** 2;
  log(`${size}² uint8, ${particles} particles: ${file}`);

  const pipeline = join(dataDir, 'count.json');
  await writeFile(pipeline, JSON.stringify({
    name: 'count-many', inputs: { image: { type: 'image' } },
    nodes: { count: { op: 'cellcount.count', in: { image: 'image' }, params: { method: 'Otsu', darkBackground: true } } },
    outputs: { objects: 'count.objects', summary: 'count.summary' },
  }));
  const bin = resolve('dist', 'cli', 'main.js');
  const rows: { name: string; t: TimedProcess; rows: number; files: string }[] = [];
  const focal = async (name: string, mode: string[], input = file) => {
    const out = join(dataDir, `out-${name}`);
    await rm(out, { recursive: true, force: true });
    const t = timedProcess(process.execPath, [bin, 'run', pipeline, '--input', `image=${input}`, '--out', out, '--no-report', '--quiet', ...mode]);
    const csv = await stat(join(out, 'objects.csv'));
    const json = await stat(join(out, 'objects.json'));
    const n = (await lines(join(out, 'objects.csv'))) - 1;
    rows.push({ name, t, rows: n, files: `objects.csv ${(csv.size / 1e6).toFixed(0)} MB, objects.json ${(json.size / 1e6).toFixed(0)} MB` });
    log(`${name}: ${t.seconds.toFixed(1)} s, ${t.peakMiB.toFixed(0)} MiB, ${n} rows`);
    await rm(out, { recursive: true, force: true });
  };
  const load = formatLoad(machineInfo().load, 2);
  await focal(`focal run --stream always --memory-mb ${memoryMb}`, ['--stream', 'always', '--memory-mb', String(memoryMb)]);
  await focal('focal run --stream never', ['--stream', 'never']);
  await focal(`focal run --stream always --memory-mb ${memoryMb}, input a tiled (512 px) deflate TIFF`, ['--stream', 'always', '--memory-mb', String(memoryMb)], tiledFile);

  const macro = join(dataDir, 'count.ijm');
  const results = join(dataDir, 'imagej-results.csv');
  await writeFile(macro, imagejCountMacro(0, false));
  try {
    await rm(results, { force: true });
    const t = timedProcess('xvfb-run', ['-a', 'java', '-Xmx16g', '-jar', jar, '-batch', macro, `${file}|${results}`]);
    const n = (await lines(results)) - 1;
    rows.push({ name: 'ImageJ 1.x headless (xvfb-run, JVM start, open, count, save results)', t, rows: n, files: `results CSV ${((await stat(results)).size / 1e6).toFixed(0)} MB` });
    log(`ImageJ: ${t.seconds.toFixed(1)} s, ${t.peakMiB.toFixed(0)} MiB, ${n} rows`);
    await rm(results, { force: true });
  } catch (e) {
    log(`ImageJ not run: ${(e as Error).message.slice(0, 300)}`);
  }
  await rm(file, { force: true });
  await rm(tiledFile, { force: true });

  const m = machineInfo();
  const ij = rows.find((r) => r.name.startsWith('ImageJ'));
  const markdown = [
    '## Cell counting, a slide\'s number of particles (bench/cellcount-many.ts)',
    '',
    `Image: ${size} × ${size} uint8, ${particles.toLocaleString('en')} square particles of 4 × 4 px on an 8 px grid (\`particleGrid\`). Task: Otsu (dark background) + Analyze Particles, all sizes, the objects and summary tables written (Focal: CSV + JSON; ImageJ: its results CSV). Input: an uncompressed TIFF (strips), and for one row the same pixels as a tiled (512 px), deflated pyramidal TIFF, as slides come. Each row is one process under \`/usr/bin/time\`, run once. ${isoDate()}, ${describeMachine(m)}; 1/5/15-min load ${load} before the first run.`,
    '',
    '| run | wall (s) | CPU (s) | peak RSS (MiB) | objects rows | files |',
    '|---|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.name} | ${r.t.seconds.toFixed(1)} | ${r.t.cpuSeconds.toFixed(1)} | ${r.t.peakMiB.toFixed(0)} | ${r.rows.toLocaleString('en')} | ${r.files} |`),
    '',
    ij ? `ImageJ whole process / focal run streamed: ${(ij.t.seconds / rows[0].t.seconds).toFixed(2)}× time, ${(ij.t.peakMiB / rows[0].t.peakMiB).toFixed(2)}× peak RSS (above 1 = Focal less).` : 'ImageJ: not run (xvfb-run/java/ImageJ missing).',
    '',
    `Memory grows with the particles, not with the plane: a streamed run reads tiles of 512 px, but keeps every particle (a few hundred bytes each) and then its table row until the tables are written. A particle that lies whole in one tile is measured on that tile; one that crosses a seam is read again in its box. The tables are written piece by piece (core's \`tableCsvPieces\`, \`tableJsonPieces\`); before 2026-12-08 they were made as one string each, and a count of 3.27 million particles failed after 88 s with "Invalid string length" (V8's limit on a string).`,
    '',
    `Reproduce: \`npx tsc -p tsconfig.build.json && node dist/bench/cellcount-many.js\``,
  ].join('\n');
  await writeBenchDocs(options, 'cellcount-many', markdown, log);
  return { markdown };
}

if (isMain(import.meta.url)) {
  runBenchMain((a) => runManyParticlesBench({ size: a.number('--size'), memoryMb: a.number('--memory-mb'), writeDocs: !a.has('--no-docs') }));
}
