/**
 * Cell counting benchmark: Focal's threshold + Analyze Particles against ImageJ 1.53t headless
 * on the same 4096 × 4096 synthetic nuclei image, on the same machine in the same run.
 * ImageJ is timed inside its macro with getTime() (so JVM start-up and file opening are
 * reported separately); Focal is timed in-process. Both use Otsu ("dark") and the same size
 * range, and the counts and total areas are checked to be equal.
 * Writes the section between <!-- bench:cellcount --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/cellcount.js [--size N] [--reps N] [--no-docs]
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createStack, mulberry32, runOp, stackRegionSource, testContext, tiledReduction, writeTiff, type Stack, type Table } from '../core/index.js';
import { count } from '../plugins/cellcount/ops/count.js';
import { analyzeParticles } from '../plugins/cellcount/particles.js';
import { applyThreshold, thresholdLimits } from '../plugins/cellcount/threshold.js';
import { describeMachine, formatLoad, isMain, isoDate, machineInfo, median, runBenchMain, writeBenchDocs, type MachineInfo } from './common.js';

const run = promisify(execFile);

export interface CellcountBenchOptions {
  /** Image side, px (default 4096). */
  size?: number;
  /** Repetitions of each timed step (default 3; the median is reported). */
  repetitions?: number;
  dataDir?: string;
  docsPath?: string;
  writeDocs?: boolean;
  imagejJar?: string;
  log?: (message: string) => void;
}

export interface CellcountBenchResult {
  date: string;
  machine: MachineInfo;
  size: number;
  nuclei: number;
  focal: { thresholdAndParticlesS: number[]; thresholdAndParticlesCpuS: number[]; opS: number[]; count: number; totalArea: number; lower: number };
  imagej?: { startupAndOpenS: number; thresholdAndParticlesS: number[]; count: number; totalArea: number; lower: number; wallS: number };
  ratio?: number;
  markdown: string;
}

/**
 * A synthetic fluorescence nuclei image (uint8): dark noisy background (mean 20), elliptical
 * nuclei of semi-axes 3–9 px with a soft rim and texture, about one per 700 px², some touching.
 */
export function syntheticNuclei(size: number, seed = 5): { data: Uint8Array; nuclei: number } {
  const r = mulberry32(seed);
  const data = new Uint8Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = 12 + Math.floor(r() * 17);
  const nuclei = Math.round((size * size) / 700);
  for (let k = 0; k < nuclei; k++) {
    const cx = r() * size;
    const cy = r() * size;
    const a = 3 + r() * 6;
    const b = a * (0.6 + r() * 0.4);
    const th = r() * Math.PI;
    const c = Math.cos(th);
    const s = Math.sin(th);
    const peak = 110 + r() * 120;
    const ext = Math.ceil(a + 2);
    for (let y = Math.max(0, Math.floor(cy - ext)); y <= Math.min(size - 1, Math.ceil(cy + ext)); y++) {
      for (let x = Math.max(0, Math.floor(cx - ext)); x <= Math.min(size - 1, Math.ceil(cx + ext)); x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const u = (dx * c + dy * s) / a;
        const v = (-dx * s + dy * c) / b;
        const d = Math.sqrt(u * u + v * v);
        if (d > 1.25) continue;
        const w = d <= 1 ? 1 : (1.25 - d) / 0.25;
        const val = data[y * size + x] + peak * w * (0.85 + 0.3 * r());
        data[y * size + x] = val > 255 ? 255 : val;
      }
    }
  }
  return { data, nuclei };
}

const MIN_SIZE_PX = 20;

export async function runCellcountBench(options: CellcountBenchOptions = {}): Promise<CellcountBenchResult> {
  const size = options.size ?? 4096;
  const reps = options.repetitions ?? 3;
  const log = options.log ?? ((m: string) => console.log(m));
  const dataDir = resolve(options.dataDir ?? join('bench', 'data', 'cellcount'));
  const jar = options.imagejJar ?? process.env.IMAGEJ_JAR ?? '/usr/share/java/ij.jar';
  await mkdir(dataDir, { recursive: true });

  log(`making a ${size}² synthetic nuclei image`);
  const { data, nuclei } = syntheticNuclei(size);
  const image = createStack({ width: size, height: size, dtype: 'uint8', planes: [data] });
  const file = join(dataDir, `nuclei-${size}.tif`);
  await writeTiff(file, image);

  // Focal: the numeric path (threshold + particles) and the whole op (+ labels, overlay, tables)
  const direct: number[] = [];
  const directCpu: number[] = [];
  let fCount = 0;
  let fArea = 0;
  let fLower = 0;
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const { lower, upper } = thresholdLimits(data, 'uint8', 'Otsu', { darkBackground: true });
    const mask = applyThreshold(data, lower, upper);
    const { particles } = analyzeParticles(mask, size, size, data, { minAreaPx: MIN_SIZE_PX, labels: false }); // ImageJ's show=Nothing makes no label image either
    direct.push((performance.now() - t0) / 1000);
    const c1 = process.cpuUsage(c0);
    directCpu.push((c1.user + c1.system) / 1e6);
    fCount = particles.length;
    fArea = particles.reduce((s, p) => s + p.areaPx, 0);
    fLower = lower;
  }
  log(`Focal threshold + particles: ${direct.map((s) => s.toFixed(3)).join(', ')} s; ${fCount} particles`);
  const opTimes: number[] = [];
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    const out = await runOp(count, { image }, { method: 'Otsu', darkBackground: true, minAreaPx: MIN_SIZE_PX }, testContext());
    opTimes.push((performance.now() - t0) / 1000);
    if ((out.summary as Table).rows[0].count !== fCount) throw new Error('cellcount.count and the direct path disagree');
  }
  log(`Focal cellcount.count op: ${opTimes.map((s) => s.toFixed(3)).join(', ')} s`);

  // ImageJ: one JVM; times inside the macro
  let imagej: CellcountBenchResult['imagej'];
  const macro = join(dataDir, 'bench.ijm');
  const results = join(dataDir, 'imagej.txt');
  await writeFile(macro, [
    'args = split(getArgument(), "|");',
    't0 = getTime();',
    'setBatchMode(true);',
    'open(args[0]);',
    'id = getImageID();',
    'tOpen = getTime();',
    'run("Set Measurements...", "area mean min centroid perimeter bounding shape redirect=None decimal=3");',
    's = "open\\t" + (tOpen - t0);',
    `for (k = 0; k < ${reps}; k++) {`,
    '  selectImage(id);',
    '  t1 = getTime();',
    '  setAutoThreshold("Otsu dark");',
    `  run("Analyze Particles...", "size=${MIN_SIZE_PX}-Infinity pixel show=Nothing display clear");`,
    '  t2 = getTime();',
    '  getThreshold(lower, upper);',
    '  total = 0; for (i = 0; i < nResults; i++) total += getResult("Area", i);',
    '  s = s + "\\nrun\\t" + (t2 - t1) + "\\t" + nResults + "\\t" + total + "\\t" + lower;',
    '}',
    'File.saveString(s + "\\n", args[1]);',
  ].join('\n'));
  try {
    await rm(results, { force: true });
    const t0 = performance.now();
    await run('xvfb-run', ['-a', 'java', '-jar', jar, '-batch', macro, `${file}|${results}`], { timeout: 600_000, maxBuffer: 1 << 26 });
    const wallS = (performance.now() - t0) / 1000;
    const lines = (await readFile(results, 'utf8')).trim().split('\n').map((l) => l.split('\t'));
    const openS = Number(lines[0][1]) / 1000;
    const runs = lines.slice(1);
    const times = runs.map((l) => Number(l[1]) / 1000);
    imagej = {
      startupAndOpenS: wallS - times.reduce((a, b) => a + b, 0),
      thresholdAndParticlesS: times,
      count: Number(runs[0][2]),
      totalArea: Number(runs[0][3]),
      lower: Number(runs[0][4]),
      wallS,
    };
    log(`ImageJ threshold + particles: ${times.map((s) => s.toFixed(3)).join(', ')} s; ${imagej.count} particles; open ${openS.toFixed(2)} s; wall ${wallS.toFixed(2)} s`);
  } catch (e) {
    log(`ImageJ not run: ${(e as Error).message}`);
  }

  // Tile by tile (what a streamed run does for a slide): the tables of the same count, plain, with
  // included holes and with the watershed, against the whole-plane op making the same tables
  const tiled = await tiledComparison(image, reps, log);

  // Whole processes, as a user runs them: `focal run` of a counting pipeline that writes the
  // tables (what the ImageJ macro saves), next to ImageJ started headless on the same file.
  const whole = await wholeProcesses(file, dataDir, reps, jar, log);

  const m = machineInfo();
  const date = isoDate();
  const fMed = median(direct);
  const ratio = imagej ? median(imagej.thresholdAndParticlesS) / fMed : undefined;
  const fmt = (xs: number[]) => xs.map((s) => s.toFixed(3)).join(', ');
  const md = [
    '## Cell counting (bench/cellcount.ts)',
    '',
    `Image: ${size} × ${size} uint8 synthetic fluorescence nuclei (${nuclei} ellipses, some touching; \`syntheticNuclei\` in bench/cellcount.ts). Task: Otsu threshold (dark background) + Analyze Particles (8-connected, size ≥ ${MIN_SIZE_PX} px, area, mean/min/max, centroid, perimeter, bounding box, circularity). Median of ${reps} runs; ImageJ timed inside its macro with getTime(), after opening the image, in one JVM.`,
    '',
    `Machine: ${describeMachine(m)}. Date: ${date}. Load average at the end: ${formatLoad(m.load, 2)} — measured while other jobs shared the machine.`,
    '',
    '| Step | Median (s) | Runs (s) | Particles | Total area (px) | Otsu lower limit |',
    '|---|---:|---|---:|---:|---:|',
    `| Focal: thresholdLimits + applyThreshold + analyzeParticles (no label image, as ImageJ's show=Nothing) | ${fMed.toFixed(3)} | ${fmt(direct)} | ${fCount} | ${fArea} | ${fLower} |`,
    `| Focal: cellcount.count op (also labels, RGB overlay, tables) | ${median(opTimes).toFixed(3)} | ${fmt(opTimes)} | ${fCount} | ${fArea} | ${fLower} |`,
    imagej
      ? `| ImageJ 1.53t: setAutoThreshold("Otsu dark") + Analyze Particles | ${median(imagej.thresholdAndParticlesS).toFixed(3)} | ${fmt(imagej.thresholdAndParticlesS)} | ${imagej.count} | ${imagej.totalArea} | ${imagej.lower} |`
      : '| ImageJ | not run (xvfb-run/java/ImageJ missing) | | | | |',
    '',
    imagej
      ? `ImageJ JVM start-up + opening the file + macro overhead: ${imagej.startupAndOpenS.toFixed(2)} s (wall ${imagej.wallS.toFixed(2)} s in all), not included above. Counts and areas ${imagej.count === fCount && imagej.totalArea === fArea ? 'are equal' : 'DIFFER'}. ImageJ time / Focal time: ${ratio!.toFixed(2)}× (above 1 = Focal faster).`
      : '',
    '',
    `Focal's CPU time (process.cpuUsage) for the threshold + particles step: ${fmt(directCpu)} s — the gap to its wall-clock time is the time the shared machine gave to other jobs.`,
    '',
    '### Tile by tile (a streamed run\'s count)',
    '',
    `The same image as a region source read in tiles of ${TILE_PX} px (\`tiledReduction\`, what \`focal run --stream\` does for a slide: the particles merged across tile seams; with included holes and the watershed each particle's box read again), against the whole-plane op making only the same two tables (\`ctx.wants\`: no label image or overlay). Otsu dark, ≥ ${MIN_SIZE_PX} px. Median of ${reps}; the tables are checked equal.`,
    '',
    '| Params | whole plane (s) | tile by tile (s) | tiled / whole | Particles | tables equal |',
    '|---|---:|---:|---:|---:|---|',
    ...tiled.map((r) => `| ${r.name} | ${median(r.whole).toFixed(3)} | ${median(r.tiled).toFixed(3)} | ${(median(r.tiled) / median(r.whole)).toFixed(2)} | ${r.count} | ${r.equal ? 'yes' : 'NO'} |`),
    '',
    '### Whole process, as a user runs it',
    '',
    `\`focal run\` of a one-node pipeline (cellcount.count, Otsu dark, ≥ ${MIN_SIZE_PX} px) writing the objects and summary tables (CSV + JSON) and run.json, on the built CLI; ImageJ: \`xvfb-run -a java -jar ij.jar -batch\` with a macro that opens the file, thresholds, runs Analyze Particles and saves the results table. Wall time of the whole process from start to exit, median of ${reps}, alternating.`,
    '',
    '| Process | Median (s) | Runs (s) |',
    '|---|---:|---|',
    `| focal run (tables only; label image and overlay not asked for, so not made) | ${median(whole.focal).toFixed(2)} | ${fmt(whole.focal)} |`,
    `| focal run, also writing labels.tif and overlay.tif (and the report's zoomable views of both: Deep Zoom tiles) | ${median(whole.focalAll).toFixed(2)} | ${fmt(whole.focalAll)} |`,
    whole.imagej.length ? `| ImageJ 1.x headless (xvfb-run, JVM start, open, count, save) | ${median(whole.imagej).toFixed(2)} | ${fmt(whole.imagej)} |` : '| ImageJ | not run |',
    '',
    whole.imagej.length ? `ImageJ whole process / focal run (tables only): ${(median(whole.imagej) / median(whole.focal)).toFixed(2)}× (above 1 = Focal faster).` : '',
    '',
    'Reproduce: `npx tsc -p tsconfig.build.json && node dist/bench/cellcount.js`',
  ].join('\n');

  await writeBenchDocs(options, 'cellcount', md, log);
  return {
    date, machine: m, size, nuclei,
    focal: { thresholdAndParticlesS: direct, thresholdAndParticlesCpuS: directCpu, opS: opTimes, count: fCount, totalArea: fArea, lower: fLower },
    ...(imagej ? { imagej } : {}),
    ...(ratio !== undefined ? { ratio } : {}),
    markdown: md,
  };
}

const TILE_PX = 512;

/** The count's tables whole-plane and tile by tile (a region source of the image), for three sets of params. */
async function tiledComparison(image: Stack, reps: number, log: (m: string) => void): Promise<{ name: string; whole: number[]; tiled: number[]; count: number; equal: boolean }[]> {
  const rows: { name: string; whole: number[]; tiled: number[]; count: number; equal: boolean }[] = [];
  const base = { method: 'Otsu', darkBackground: true, minAreaPx: MIN_SIZE_PX } as const;
  for (const [name, params] of [
    ['plain', base],
    ['included holes', { ...base, includeHoles: true }],
    ['watershed', { ...base, watershed: true }],
  ] as const) {
    const parsed = count.params.parse(params);
    const row = { name, whole: [] as number[], tiled: [] as number[], count: 0, equal: true };
    for (let k = 0; k < reps; k++) {
      let t0 = performance.now();
      const whole = await count.run({ ...testContext(), wants: (p) => p === 'objects' || p === 'summary' }, { image }, parsed);
      row.whole.push((performance.now() - t0) / 1000);
      t0 = performance.now();
      const tiles = await tiledReduction(count, stackRegionSource(image), params, { tileSize: TILE_PX });
      row.tiled.push((performance.now() - t0) / 1000);
      row.count = (whole.objects as Table).rows.length;
      row.equal &&= JSON.stringify(tiles.objects) === JSON.stringify(whole.objects) && JSON.stringify(tiles.summary) === JSON.stringify(whole.summary);
    }
    log(`count ${name}: whole ${row.whole.map((s) => s.toFixed(3)).join(', ')} s, tiled ${row.tiled.map((s) => s.toFixed(3)).join(', ')} s, ${row.count} particles, equal ${row.equal}`);
    rows.push(row);
  }
  return rows;
}

/**
 * An ImageJ macro (run with `-batch macro "image|results"`) that opens the image, thresholds it
 * with Otsu (dark background), runs Analyze Particles from `minSizePx` px up and saves the
 * results table. `display` lists the results too (in batch mode, on stdout: leave it out for a
 * table of a million rows).
 */
export function imagejCountMacro(minSizePx: number, display: boolean): string {
  return [
    'args = split(getArgument(), "|");',
    'setBatchMode(true);',
    'open(args[0]);',
    'run("Set Measurements...", "area mean min centroid perimeter bounding shape redirect=None decimal=3");',
    'setAutoThreshold("Otsu dark");',
    `run("Analyze Particles...", "size=${minSizePx}-Infinity pixel show=Nothing${display ? ' display' : ''} clear");`,
    'saveAs("Results", args[1]);',
  ].join('\n');
}

/** Wall times of whole `focal run` processes and of headless ImageJ processes doing the same count. */
async function wholeProcesses(file: string, dataDir: string, reps: number, jar: string, log: (m: string) => void): Promise<{ focal: number[]; focalAll: number[]; imagej: number[] }> {
  const bin = resolve('dist', 'cli', 'main.js');
  const pipeline = (outputs: Record<string, string>) => JSON.stringify({
    name: 'count-bench', inputs: { image: { type: 'image' } },
    nodes: { count: { op: 'cellcount.count', in: { image: 'image' }, params: { method: 'Otsu', darkBackground: true, minAreaPx: MIN_SIZE_PX } } },
    outputs,
  });
  const tablesOnly = join(dataDir, 'count-tables.json');
  const everything = join(dataDir, 'count-all.json');
  await writeFile(tablesOnly, pipeline({ objects: 'count.objects', summary: 'count.summary' }));
  await writeFile(everything, pipeline({ objects: 'count.objects', summary: 'count.summary', labels: 'count.labels', overlay: 'count.overlay' }));
  const macro = join(dataDir, 'whole.ijm');
  await writeFile(macro, imagejCountMacro(MIN_SIZE_PX, true));
  const timed = async (cmd: string, args: string[]): Promise<number> => {
    const t0 = performance.now();
    await run(cmd, args, { timeout: 600_000, maxBuffer: 1 << 26 });
    return (performance.now() - t0) / 1000;
  };
  const focal: number[] = [];
  const focalAll: number[] = [];
  const imagej: number[] = [];
  for (let k = 0; k < reps; k++) {
    const out = join(dataDir, `whole-out-${k}`);
    await rm(out, { recursive: true, force: true });
    focal.push(await timed(process.execPath, [bin, 'run', tablesOnly, '--input', `image=${file}`, '--out', out, '--quiet']));
    await rm(`${out}-all`, { recursive: true, force: true });
    focalAll.push(await timed(process.execPath, [bin, 'run', everything, '--input', `image=${file}`, '--out', `${out}-all`, '--quiet']));
    try {
      imagej.push(await timed('xvfb-run', ['-a', 'java', '-jar', jar, '-batch', macro, `${file}|${join(dataDir, 'whole-results.csv')}`]));
    } catch (e) {
      log(`ImageJ whole process not run: ${(e as Error).message}`);
    }
  }
  log(`whole process: focal run ${focal.map((s) => s.toFixed(2)).join(', ')} s (with labels + overlay ${focalAll.map((s) => s.toFixed(2)).join(', ')} s); ImageJ ${imagej.map((s) => s.toFixed(2)).join(', ')} s`);
  return { focal, focalAll, imagej };
}

if (isMain(import.meta.url)) {
  runBenchMain((a) => runCellcountBench({ size: a.number('--size'), repetitions: a.number('--reps'), writeDocs: !a.has('--no-docs') }));
}
