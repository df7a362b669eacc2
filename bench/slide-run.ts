/**
 * Issue 21's must-show: a generated N × N uint16 slide (default 40 000², 3.2 GB of pixels,
 * written tiled 512² and deflated by bench/large.ts's generator, never committed, deleted at
 * the end) through `focal run` — Gaussian σ = 2 px over the whole slide, Deep-R autofocus on a
 * centred region (default 2048²) — streamed into a pyramidal OME-TIFF, then the same run into
 * OME-Zarr (Zarr v2). Each run is one process under `/usr/bin/time` (wall time, peak RSS).
 * The outputs are checked with tifffile (shape, levels), OpenSlide (`openslide-show-properties`
 * and python3-openslide: size, levels) and zarr-python 2 (Debian python3-zarr: shapes, chunks,
 * and a window equal to the TIFF's).
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/slide-run.js [--size 40000] [--region 2048] [--memory-mb 1024] [--no-docs]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, describeMachine, formatLoad, isMain, isoDate, machineInfo, runBenchMain, timedProcess, writeBenchDocs, type TimedProcess as Timed } from './common.js';

const PY = '/usr/bin/python3';

const timed = (cmd: string, args: string[]): Timed => timedProcess(cmd, args);

const py = (script: string, ...args: string[]): string => execFileSync(PY, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim();

/** tifffile: OME series shape and level shapes; a window of level 0 through its zarr view (not the whole plane). */
const TIFFFILE = `
import sys, json, tifffile, zarr, numpy
x, y, n = map(int, sys.argv[2:5])
with tifffile.TiffFile(sys.argv[1]) as t:
    s = t.series[0]
    z = zarr.open(s.aszarr(level=0), mode='r')
    w = numpy.asarray(z[y:y+n, x:x+n])
    print(json.dumps({"ome": t.is_ome, "series": len(t.series), "levels": ["x".join(map(str, l.shape)) for l in s.levels], "dtype": str(s.dtype), "sum": int(w.astype("int64").sum())}))
`;

/** OpenSlide (python3-openslide): level dimensions and one region read at the last level. */
const OPENSLIDE = `
import sys, json, openslide
s = openslide.OpenSlide(sys.argv[1])
r = s.read_region((0, 0), s.level_count - 1, s.level_dimensions[-1])
print(json.dumps({"levels": ["x".join(map(str, d)) for d in s.level_dimensions], "vendor": s.properties.get("openslide.vendor"), "read": list(r.size)}))
`;

/** zarr-python 2 (Debian python3-zarr) on the OME-Zarr v2 output: multiscales, shapes, chunks, a window. */
const ZARR = `
import sys, json, zarr, numpy
x, y, n = map(int, sys.argv[2:5])
g = zarr.open_group(sys.argv[1], mode='r')
ms = g.attrs["multiscales"][0]
arrs = [g[d["path"]] for d in ms["datasets"]]
w = numpy.asarray(arrs[0][0, 0, 0, y:y+n, x:x+n])
print(json.dumps({"version": ms.get("version"), "axes": [a["name"] for a in ms["axes"]], "levels": ["x".join(map(str, a.shape[-2:][::-1])) for a in arrs], "chunks": list(arrs[0].chunks), "dtype": str(arrs[0].dtype), "sum": int(w.astype("int64").sum())}))
`;

export async function runSlideBench(args = benchArgs(), docsPath?: string): Promise<string> {
  const size = args.number('--size') ?? 40000;
  const region = Math.min(size, args.number('--region') ?? 2048);
  const memoryMb = args.number('--memory-mb') ?? 1024;
  const machine = machineInfo();
  const here = fileURLToPath(import.meta.url);
  const distBench = here.endsWith('.ts') ? join(dirname(here), '..', 'dist', 'bench') : dirname(here);
  const cli = join(distBench, '..', 'cli', 'main.js');
  const dir = await mkdtemp(join('/tmp', 'focal-slide-run-'));
  try {
    const input = join(dir, 'slide.ome.tif');
    const gen = timed(process.execPath, [join(distBench, 'large.js'), '--step', 'generate', input, String(size)]);
    const inBytes = (await stat(input)).size;
    const at = Math.floor((size - region) / 2);
    const pipeline = join(dir, 'slide-gaussian-deepr.json');
    await writeFile(
      pipeline,
      JSON.stringify(
        {
          name: 'slide-gaussian-deepr',
          description: 'Gaussian over a whole slide, Deep-R autofocus on a region of it (bench/slide-run.ts)',
          inputs: { slide: { type: 'stack' } },
          nodes: {
            blur: { op: 'filter.gaussian', in: { stack: 'slide' }, params: { sigmaPx: 2 } },
            region: { op: 'stack.crop', in: { stack: 'blur.stack' }, params: { x: at, y: at, width: region, height: region } },
            focus: { op: 'deepr.autofocus', in: { image: 'region.stack' }, params: {} },
          },
          outputs: { blurred: 'blur.stack', focused: 'focus.image' },
        },
        null,
        2,
      ),
    );
    const loadTiff = loadavg();
    const tiffOut = join(dir, 'run-tiff');
    const runTiff = timed(process.execPath, [cli, 'run', pipeline, '-i', input, '-o', tiffOut, '--memory-mb', String(memoryMb), '--no-report', '--quiet']);
    const record = JSON.parse(await readFile(join(tiffOut, 'run.json'), 'utf8')) as { stream?: { tileSize: number; nodes: { node: string; mode: string; haloPx?: number }[] }; nodes: Record<string, { ms: number | null }> };
    if (!record.stream) throw new Error('the run did not stream');
    const blurredTif = join(tiffOut, 'blurred.ome.tif');
    const focusedTif = join(tiffOut, 'focused.ome.tif');
    const win = [String(at), String(at), '512'];
    const tf = JSON.parse(py(TIFFFILE, blurredTif, ...win)) as { levels: string[]; sum: number; series: number; ome: boolean; dtype: string };
    const tfFocused = JSON.parse(py(TIFFFILE, focusedTif, '0', '0', '64')) as { levels: string[]; dtype: string };
    const os = JSON.parse(py(OPENSLIDE, blurredTif)) as { levels: string[]; vendor: string; read: number[] };
    const props = execFileSync('openslide-show-properties', [blurredTif], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const levelCount = /openslide\.level-count: '(\d+)'/.exec(props)?.[1];
    const outBytes = (await stat(blurredTif)).size;
    await rm(tiffOut, { recursive: true, force: true });

    const loadZarr = loadavg();
    const zarrOut = join(dir, 'run-zarr');
    const runZarr = timed(process.execPath, [cli, 'run', pipeline, '-i', input, '-o', zarrOut, '--memory-mb', String(memoryMb), '--stream-format', 'ome-zarr', '--zarr-format', '2', '--no-report', '--quiet']);
    const zr = JSON.parse(py(ZARR, join(zarrOut, 'blurred.ome.zarr'), ...win)) as { version: string; axes: string[]; levels: string[]; chunks: number[]; dtype: string; sum: number };
    const zarrSame = zr.sum === tf.sum;
    if (!zarrSame) throw new Error(`the OME-Zarr window sums to ${zr.sum}, the OME-TIFF's to ${tf.sum}`);
    const loadEnd = loadavg();

    const gb = (size * size * 2) / 1e9;
    const goal = (t: Timed): string => (t.peakMiB <= 1536 ? 'met' : 'not met');
    const nodes = record.stream.nodes.map((n) => `${n.node}: ${n.mode}${n.haloPx !== undefined ? ` (halo ${n.haloPx} px)` : ''}`).join(', ');
    const md = [
      '## Whole slide through `focal run` (bench/slide-run.ts)',
      '',
      `Issue 21's must-show. Image: ${size} × ${size} uint16 (${gb.toFixed(1)} GB of pixels), generated band by band (bench/large.ts's pattern) into a tiled 512² deflated OME-TIFF of ${(inBytes / 1e9).toFixed(2)} GB in ${gen.seconds.toFixed(0)} s (peak RSS ${gen.peakMiB.toFixed(0)} MiB), deleted afterwards. Pipeline: \`filter.gaussian\` σ = 2 px over the whole slide (output \`blurred\`), \`stack.crop\` of the centred ${region} × ${region} region of the blurred slide → \`deepr.autofocus\` (models/deepr-demo; output \`focused\`). \`focal run\` streams on its own (the input is more than a quarter of \`--memory-mb ${memoryMb}\`): ${nodes}; tiles ${record.stream.tileSize} px. One run each, under \`/usr/bin/time -f "%e s %M KB"\`.`,
      '',
      `Machine: ${describeMachine(machine)}; shared with other agents' jobs: 1/5/15-minute load ${formatLoad(loadTiff)} at the OME-TIFF run's start, ${formatLoad(loadZarr)} at the OME-Zarr run's, ${formatLoad(loadEnd)} at the end. Date: ${isoDate()}.`,
      '',
      '| Run | Wall time (s) | Peak RSS (MiB) | Goal: peak RSS ≤ 1.5 GB |',
      '|---|---:|---:|---|',
      `| → pyramidal OME-TIFF | ${runTiff.seconds.toFixed(0)} | ${runTiff.peakMiB.toFixed(0)} | ${goal(runTiff)} |`,
      `| → OME-Zarr v2 (NGFF 0.4) | ${runZarr.seconds.toFixed(0)} | ${runZarr.peakMiB.toFixed(0)} | ${goal(runZarr)} |`,
      '',
      'Outputs:',
      `- \`blurred.ome.tif\` (${(outBytes / 1e9).toFixed(2)} GB): tifffile ${tf.series} OME series (${tf.ome ? 'OME' : 'not OME'}), ${tf.dtype}, levels ${tf.levels.join(' ')}; OpenSlide (\`openslide-show-properties\`: level-count ${levelCount}; python3-openslide, vendor ${os.vendor}): levels ${os.levels.join(' ')} (read its last level whole: ${os.read.join('×')}).`,
      `- \`focused.ome.tif\`: tifffile levels ${tfFocused.levels.join(' ')}, ${tfFocused.dtype}.`,
      `- \`blurred.ome.zarr\`: zarr-python 2 (Debian python3-zarr) reads NGFF ${zr.version}, axes ${zr.axes.join(' ')}, ${zr.dtype}, chunks ${zr.chunks.join('×')}, levels ${zr.levels.join(' ')}; the 512² window at (${at}, ${at}) equals the OME-TIFF's (pixel sum ${zr.sum}).`,
      '',
      `Reproduce: \`npx tsc -p tsconfig.build.json && node dist/bench/slide-run.js --size ${size} --region ${region} --memory-mb ${memoryMb}\``,
    ].join('\n');
    await writeBenchDocs({ writeDocs: !args.has('--no-docs'), docsPath }, 'slide-run', md, (m) => console.error(m));
    return md;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) runBenchMain(() => runSlideBench(), (md) => md);
