/**
 * TSVA on a whole slide (tsva.slide through `focal run`): an acquisition of scanner tiles
 * (1224 × 1024 px RGB, two shots each, ~10 % overlap) generated from the bundled sample shots
 * (mirrored, shifted per tile) into an OME-TIFF, then
 * - a one-tile acquisition streamed: the process's own peak (Node, onnxruntime, one tile);
 * - a small grid run in memory (--stream never) and streamed (--stream always), side by side:
 *   wall time, peak RSS, and the two mosaics compared pixel for pixel;
 * - the small grid's mosaic counted in the same streamed run (grey → Otsu count);
 * - a large grid whose mosaic is over the 64 Mpx the op makes in memory: refused in memory
 *   (the error recorded), streamed under --memory-mb, and the bundled count pipeline on it.
 * Each run is one process under `/usr/bin/time` (wall time, peak RSS); inputs and outputs are
 * deleted at the end.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/tsva-slide.js [--small 3] [--large 8] [--memory-mb 1024] [--no-docs]
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTiffImage, readTiff, writePyramidalTiff, type PixelArray, type RegionSource, type Stack } from '../core/index.js';
import { benchArgs, describeMachine, formatLoad, isMain, isoDate, machineInfo, runBenchMain, timedProcess, writeBenchDocs, type TimedProcess } from './common.js';

const TILE = { width: 1224, height: 1024 };
const STEP = { x: 1100, y: 920 };

/** A grid × grid acquisition: the sample's two shots mirrored over each tile, shifted per tile so that tiles differ. */
export async function acquisition(dir: string, grid: number, a: Stack, b: Stack): Promise<{ shots: string; positions: string; width: number; height: number }> {
  const n = grid * grid;
  const s = a.width;
  const fold = (i: number): number => {
    const j = ((i % (2 * s)) + 2 * s) % (2 * s);
    return j < s ? j : 2 * s - 1 - j;
  };
  const src: RegionSource = {
    ...TILE,
    sizeC: 3,
    sizeZ: 2 * n,
    sizeT: 1,
    dtype: 'uint8',
    rgb: true,
    calibration: a.calibration,
    channelNames: ['R', 'G', 'B'],
    async readRegion(r): Promise<PixelArray> {
      const z = r.z ?? 0;
      const k = Math.floor(z / 2);
      const shot = z % 2 === 0 ? a : b;
      const plane = shot.planes[r.c ?? 0];
      const out = new Uint8Array(r.w * r.h);
      for (let y = 0; y < r.h; y++) for (let x = 0; x < r.w; x++) out[y * r.w + x] = plane[fold(r.y + y + 37 * k) * s + fold(r.x + x + 53 * k)];
      return out;
    },
  };
  const shots = join(dir, `shots-${grid}.ome.tif`);
  await writePyramidalTiff(shots, src, { tileSize: 512, levels: 1 });
  const positions = join(dir, `positions-${grid}.csv`);
  const rows = Array.from({ length: n }, (_, k) => `${(k % grid) * STEP.x},${Math.floor(k / grid) * STEP.y}`);
  await writeFile(positions, `xPx,yPx\n${rows.join('\n')}\n`);
  return { shots, positions, width: (grid - 1) * STEP.x + TILE.width, height: (grid - 1) * STEP.y + TILE.height };
}

export async function runTsvaSlideBench(args = benchArgs(), docsPath?: string): Promise<string> {
  const small = args.number('--small') ?? 3;
  const large = args.number('--large') ?? 8;
  const memoryMb = args.number('--memory-mb') ?? 1024;
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const cli = join(root, 'dist', 'cli', 'main.js');
  const samples = join(root, 'plugins', 'tsva', 'samples');
  const machine = machineInfo();
  const dir = await mkdtemp(join(tmpdir(), 'focal-tsva-slide-'));
  try {
    const a = await readTiff(join(samples, 'tsva-tile-shot-a.tif'));
    const b = await readTiff(join(samples, 'tsva-tile-shot-b.tif'));
    const pipeline = join(dir, 'slide.json');
    await writeFile(pipeline, JSON.stringify({ name: 'tsva-slide', inputs: { shots: { type: 'stack' }, positions: { type: 'table' } }, nodes: { slide: { op: 'tsva.slide', in: { shots: 'shots', positions: 'positions' } } }, outputs: { mosaic: 'slide.mosaic', tiles: 'slide.tiles' } }));
    const countPipeline = join(dir, 'count.json');
    await writeFile(countPipeline, JSON.stringify({
      name: 'tsva-slide-otsu-count',
      inputs: { shots: { type: 'stack' }, positions: { type: 'table' } },
      nodes: {
        slide: { op: 'tsva.slide', in: { shots: 'shots', positions: 'positions' } },
        grey: { op: 'cellcount.rgb-to-grey', in: { stack: 'slide.mosaic' } },
        count: { op: 'cellcount.count', in: { image: 'grey.stack' }, params: { method: 'Otsu', darkBackground: false, minAreaPx: 150, excludeEdges: true } },
      },
      outputs: { summary: 'count.summary' },
    }));
    const nuclei = async (out: string): Promise<number> => Number((await readFile(join(dir, out, 'summary.csv'), 'utf8')).split('\n')[1].split(',')[1]);
    const run = (acq: { shots: string; positions: string }, out: string, mode: 'never' | 'always', file = pipeline, mb = memoryMb): TimedProcess =>
      timedProcess(process.execPath, [cli, 'run', file, '-i', `shots=${acq.shots}`, '-i', `positions=${acq.positions}`, '-o', join(dir, out), '--stream', mode, '--memory-mb', String(mb), '--no-report', '--quiet'], { allowFailure: true });
    const check = (t: TimedProcess, what: string): TimedProcess => {
      if (t.status !== 0) throw new Error(`${what} failed: ${t.stderr.slice(-3000)}`);
      return t;
    };

    // the process itself: node, onnxruntime's session and one tile's work, streamed
    const acq1 = await acquisition(dir, 1, a, b);
    const one = check(run(acq1, 'one', 'always'), 'one-tile run');
    await rm(join(dir, 'one'), { recursive: true, force: true });
    const acqS = await acquisition(dir, small, a, b);
    const loadS = formatLoad(machineInfo().load);
    const memS = check(run(acqS, 'mem', 'never'), 'in-memory run');
    const strS = check(run(acqS, 'str', 'always'), 'streamed run');
    const whole = await readTiff(join(dir, 'mem', 'mosaic.tif'));
    const img = await openTiffImage(join(dir, 'str', 'mosaic.ome.tif'));
    let differ = 0;
    try {
      for (let c = 0; c < 3; c++) {
        const p = await img.readRegion({ c, x: 0, y: 0, w: img.width, h: img.height });
        for (let i = 0; i < p.length; i++) if (p[i] !== whole.planes[c][i]) differ++;
      }
    } finally {
      await img.close();
    }
    await rm(join(dir, 'mem'), { recursive: true, force: true });
    await rm(join(dir, 'str'), { recursive: true, force: true });
    // the mosaic counted in the same run (tile by tile; the mosaic kept on disk for the count's passes)
    const cntS = check(run(acqS, 'cnt', 'always', countPipeline), 'count run');
    const cntSN = await nuclei('cnt');

    const acqL = await acquisition(dir, large, a, b);
    const inBytes = (await stat(acqL.shots)).size;
    const loadL = formatLoad(machineInfo().load);
    const memL = run(acqL, 'memL', 'never');
    const refused = memL.stderr.split('\n').find((l) => l.startsWith('focal: error')) ?? `exit ${memL.status}`;
    const strL = check(run(acqL, 'strL', 'always'), 'large streamed run');
    const outBytes = (await stat(join(dir, 'strL', 'mosaic.ome.tif'))).size;
    const bandRows = (JSON.parse(await readFile(join(dir, 'strL', 'run.json'), 'utf8')) as { stream?: { tileSize?: number } }).stream?.tileSize;
    await rm(join(dir, 'strL'), { recursive: true, force: true });
    // the paper's four steps on the large mosaic, under the same budget: the count with holes and its
    // overlay streamed; the contrast stretch on the whole grey mosaic when it fits a quarter of the budget,
    // else tiled with its limits measured region by region
    const bundled = join(root, 'plugins', 'tsva', 'pipelines', 'tsva-slide-count.json');
    const cntL = check(run(acqL, 'cntL', 'always', bundled), 'bundled count run');
    const cntModes = ((JSON.parse(await readFile(join(dir, 'cntL', 'run.json'), 'utf8')) as { stream?: { nodes?: { node: string; mode: string }[] } }).stream?.nodes ?? []).map((n) => `${n.node} ${n.mode}`).join(', ');
    const cntLN = await nuclei('cntL');
    const tilesS = small * small;
    const tilesL = large * large;
    const mpx = (x: { width: number; height: number }) => ((x.width * x.height) / 1e6).toFixed(1);
    const md = [
      '## TSVA on a whole slide: `tsva.slide` in memory and streamed (`bench/tsva-slide.ts`)',
      '',
      `Acquisitions of ${TILE.width} × ${TILE.height} px RGB scanner tiles, two shots each, on a ${STEP.x} × ${STEP.y} px grid (~10 % overlap), generated from the bundled sample shots (mirrored, shifted per tile) into a tiled OME-TIFF; models/tsva-demo, onnxruntime. One \`focal run\` process per row under \`/usr/bin/time -f "%e s %M KB"\`, \`--memory-mb ${memoryMb} --no-report\`. ${isoDate()}, ${describeMachine(machine)}; 1/5/15-min load ${loadS} before the small grid, ${loadL} before the large one.`,
      '',
      '| acquisition | run | wall (s) | s per scanner tile | peak RSS (MiB) |',
      '|---|---|---|---|---|',
      `| ${small} × ${small} tiles, mosaic ${acqS.width} × ${acqS.height} (${mpx(acqS)} Mpx) | in memory (\`--stream never\`) | ${memS.seconds.toFixed(1)} | ${(memS.seconds / tilesS).toFixed(2)} | ${memS.peakMiB.toFixed(0)} |`,
      `| same | streamed (\`--stream always\`) | ${strS.seconds.toFixed(1)} | ${(strS.seconds / tilesS).toFixed(2)} | ${strS.peakMiB.toFixed(0)} |`,
      `| same | mosaic → grey → Otsu count, one streamed run (the mosaic kept on disk for the count's passes): ${cntSN} nuclei | ${cntS.seconds.toFixed(1)} | ${(cntS.seconds / tilesS).toFixed(2)} | ${cntS.peakMiB.toFixed(0)} |`,
      memL.status === 0
        ? `| ${large} × ${large} tiles, mosaic ${acqL.width} × ${acqL.height} (${mpx(acqL)} Mpx), input ${(inBytes / 1e6).toFixed(0)} MB | in memory | ${memL.seconds.toFixed(1)} | ${(memL.seconds / tilesL).toFixed(2)} | ${memL.peakMiB.toFixed(0)} |`
        : `| ${large} × ${large} tiles, mosaic ${acqL.width} × ${acqL.height} (${mpx(acqL)} Mpx), input ${(inBytes / 1e6).toFixed(0)} MB | in memory | refused after ${memL.seconds.toFixed(1)} s (peak RSS ${memL.peakMiB.toFixed(0)} MiB) | | |`,
      `| same | streamed | ${strL.seconds.toFixed(1)} | ${(strL.seconds / tilesL).toFixed(2)} | ${strL.peakMiB.toFixed(0)} |`,
      `| same | the paper's four steps, \`plugins/tsva/pipelines/tsva-slide-count.json\`, streamed (nodes: ${cntModes}; the count with holes and its overlay streamed): ${cntLN} nuclei | ${cntL.seconds.toFixed(1)} | ${(cntL.seconds / tilesL).toFixed(2)} | ${cntL.peakMiB.toFixed(0)} |`,
      '',
      `Memory: a one-tile acquisition streamed the same way peaks at ${one.peakMiB.toFixed(0)} MiB (${one.seconds.toFixed(1)} s): Node, onnxruntime's session at the package's 512-px tiles and one tile's work. The run's budget counts what the op holds (the tiles a band meets, kept as RGB float, the band, and the network: its onnxruntime session and one 512-px network tile's tensors, core's \`inferenceWorkingBytes\`, bench/network-memory.ts) beside a 256 MB reserve for the process. The large streamed run was planned with bands of ${bandRows} rows (run.json) and peaked at ${strL.peakMiB.toFixed(0)} MiB, ${strL.peakMiB <= memoryMb ? 'within' : `${(strL.peakMiB - memoryMb).toFixed(0)} MiB above`} its \`--memory-mb ${memoryMb}\`. What the op holds grows with the slide's width (the tiles a band meets), not with its height.`,
      '',
      `Small grid: the streamed mosaic differs from the in-memory one in ${differ} of ${3 * acqS.width * acqS.height} samples. ${memL.status === 0 ? '' : `Large grid in memory: \`${refused.replace(/`/g, "'")}\`.`} Streamed output: a pyramidal OME-TIFF of ${(outBytes / 1e6).toFixed(0)} MB.`,
      '',
      `Reproduce: \`npx tsc -p tsconfig.build.json && node dist/bench/tsva-slide.js --small ${small} --large ${large} --memory-mb ${memoryMb}\``,
    ].join('\n');
    await writeBenchDocs({ writeDocs: !args.has('--no-docs'), docsPath }, 'tsva-slide', md, (m) => console.error(m));
    return md;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) runBenchMain((args) => runTsvaSlideBench(args), (md) => md);
