/**
 * TIFF I/O benchmark: Focal's writer and reader against python3-tifffile on the same
 * ~200 MB uint16 stack (and geotiff's own readRasters as the baseline Focal's fast path
 * replaces). Writes a section between <!-- bench:io --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/io.js [--planes N] [--reps N] [--no-docs]
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fromFile } from 'geotiff';
import { createStack, type Stack } from '../core/data/stack.js';
import { readTiff } from '../core/io/tiff/read.js';
import { writeTiff } from '../core/io/tiff/write.js';
import { describeMachine, isMain, isoDate, machineInfo, median, runBenchMain, writeBenchDocs, type MachineInfo } from './common.js';

const run = promisify(execFile);

export interface IoBenchOptions {
  width?: number;
  height?: number;
  /** Number of planes (z); default 100 → 1024 × 1024 × 100 × 2 bytes ≈ 210 MB. */
  planes?: number;
  repetitions?: number;
  /** Folder for the benchmark files (default bench/data under the working directory). */
  dataDir?: string;
  /** Markdown file to update (default docs/benchmarks.md); undefined with writeDocs false. */
  docsPath?: string;
  writeDocs?: boolean;
  /** Python with tifffile and numpy (default: FOCAL_PYTHON, python3, /usr/bin/python3). */
  python?: string;
  /** Also time geotiff's readRasters (the reader Focal's fast path replaces). Default true. */
  geotiffBaseline?: boolean;
  log?: (message: string) => void;
}

export interface Timing {
  /** Seconds of every repetition. */
  seconds: number[];
  medianSeconds: number;
  mbPerS: number;
}

export interface IoBenchResult {
  date: string;
  machine: MachineInfo & { loadAtStart: number };
  shape: { width: number; height: number; planes: number; dtype: 'uint16' };
  bytes: number;
  fileBytes: number;
  repetitions: number;
  focal: { write: Timing; read: Timing };
  geotiff?: { read: Timing };
  tifffile?: { version: string; python: string; write: Timing; read: Timing };
  /** Focal MB/s ÷ tifffile MB/s (above 1 = Focal faster). */
  ratio?: { write: number; read: number };
  markdown: string;
}

function timing(seconds: number[], bytes: number): Timing {
  const med = median(seconds);
  return { seconds, medianSeconds: med, mbPerS: bytes / 1e6 / med };
}

async function findPython(preferred?: string): Promise<string | undefined> {
  const candidates = [preferred, process.env.FOCAL_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const py of candidates) {
    try {
      await run(py, ['-c', 'import tifffile, numpy']);
      return py;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

// Times tifffile.imwrite (followed by fsync, as Focal's atomic write syncs too) and
// tifffile.imread of the file Focal wrote.
const PY_BENCH = `
import json, os, sys, time
import numpy as np, tifffile
focal_file, out_file, w, h, n, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
a = (np.arange(w * h * n, dtype=np.uint64) * 7 % 65536).astype(np.uint16).reshape(n, h, w)
writes, reads = [], []
for _ in range(reps):
    t = time.perf_counter()
    with open(out_file, 'wb') as f:
        tifffile.imwrite(f, a, imagej=True)
        f.flush()
        os.fsync(f.fileno())
    writes.append(time.perf_counter() - t)
    os.remove(out_file)
for _ in range(reps):
    t = time.perf_counter()
    b = tifffile.imread(focal_file)
    reads.append(time.perf_counter() - t)
    assert b.shape == (n, h, w), b.shape
    del b
print(json.dumps({"version": tifffile.__version__, "write": writes, "read": reads}))
`;

function makeStack(width: number, height: number, planes: number): Stack {
  const n = width * height;
  const data = Array.from({ length: planes }, (_, z) => {
    const p = new Uint16Array(n);
    const base = z * n;
    for (let i = 0; i < n; i++) p[i] = ((base + i) * 7) % 65536;
    return p;
  });
  return createStack({ width, height, dtype: 'uint16', sizeZ: planes, planes: data, calibration: { pixelWidthUm: 0.1, pixelHeightUm: 0.1, zStepUm: 0.5 } });
}

const fmt = (x: number, d = 0): string => x.toFixed(d);

function markdown(r: IoBenchResult): string {
  const mb = r.bytes / 1e6;
  const row = (what: string, t: Timing): string => `| ${what} | ${fmt(t.medianSeconds, 3)} | ${fmt(t.mbPerS)} | ${t.seconds.map((s) => fmt(s, 3)).join(', ')} |`;
  const lines = [
    '<!-- bench:io -->',
    '## TIFF I/O (bench/io.ts)',
    '',
    `Stack: ${r.shape.width} × ${r.shape.height} × ${r.shape.planes} ${r.shape.dtype} (${fmt(mb, 1)} MB of pixels, file ${fmt(r.fileBytes / 1e6, 1)} MB), uncompressed; median of ${r.repetitions} runs; files in the page cache (written just before).`,
    '',
    `Machine: ${describeMachine(r.machine)}; 1-minute load average at start ${r.machine.loadAtStart.toFixed(1)} (other work on the machine makes the runs vary). Date: ${r.date}.`,
    '',
    '| Operation | Median (s) | MB/s | Runs (s) |',
    '|---|---:|---:|---|',
    row('Focal writeTiff (atomic: temp file, fsync, rename)', r.focal.write),
    row('Focal readTiff', r.focal.read),
  ];
  if (r.geotiff) lines.push(row('geotiff fromFile + readRasters per page (no Focal fast path)', r.geotiff.read));
  if (r.tifffile) {
    lines.push(row(`tifffile ${r.tifffile.version} imwrite (imagej=True) + fsync`, r.tifffile.write));
    lines.push(row(`tifffile ${r.tifffile.version} imread of Focal's file`, r.tifffile.read));
  }
  lines.push('');
  if (r.ratio) {
    lines.push(`Focal / tifffile throughput: write ${fmt(r.ratio.write, 2)}×, read ${fmt(r.ratio.read, 2)}× (above 1 = Focal faster).`);
  } else {
    lines.push('tifffile was not available (python3-tifffile); no comparison.');
  }
  if (r.geotiff) lines.push(`Focal's reader / geotiff readRasters: ${fmt(r.focal.read.mbPerS / r.geotiff.read.mbPerS, 1)}× (Focal reads uncompressed strips straight into the plane buffers).`);
  lines.push('', 'Reproduce: `npx tsc -p tsconfig.build.json && node dist/bench/io.js`', '<!-- /bench:io -->');
  return lines.join('\n');
}

export async function runIoBench(options: IoBenchOptions = {}): Promise<IoBenchResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const width = options.width ?? 1024;
  const height = options.height ?? 1024;
  const planes = options.planes ?? 100;
  const reps = options.repetitions ?? 3;
  const dataDir = resolve(options.dataDir ?? join(process.cwd(), 'bench', 'data'));
  await mkdir(dataDir, { recursive: true });
  const focalFile = join(dataDir, 'io-focal.tif');
  const pyFile = join(dataDir, 'io-tifffile.tif');
  const machine = machineInfo();
  const stack = makeStack(width, height, planes);
  const bytes = width * height * planes * 2;
  log(`bench:io ${width}×${height}×${planes} uint16 = ${(bytes / 1e6).toFixed(1)} MB, ${reps} repetitions`);

  // Repetitions interleave Focal, geotiff and tifffile so that changing load on the machine
  // affects all of them alike.
  const py = await findPython(options.python);
  if (!py) log('  tifffile not found (set FOCAL_PYTHON); skipping the comparison');
  const writes: number[] = [];
  const reads: number[] = [];
  const g: number[] = [];
  const pyWrites: number[] = [];
  const pyReads: number[] = [];
  let pyVersion = '';
  let fileBytes = 0;
  for (let i = 0; i < reps; i++) {
    // Both writers create a new file (tifffile's output is removed after each run, untimed).
    await rm(focalFile, { force: true });
    let t = performance.now();
    await writeTiff(focalFile, stack);
    writes.push((performance.now() - t) / 1000);
    fileBytes = (await stat(focalFile)).size;

    t = performance.now();
    let back: Stack | undefined = await readTiff(focalFile);
    reads.push((performance.now() - t) / 1000);
    const probe = 12345 % (width * height);
    if (back.sizeZ !== planes || back.planes[planes - 1][probe] !== stack.planes[planes - 1][probe]) throw new Error('bench:io: read back different data');
    back = undefined;
    log(`  run ${i + 1}: focal write ${writes[i].toFixed(3)} s, read ${reads[i].toFixed(3)} s`);

    if (options.geotiffBaseline ?? true) {
      t = performance.now();
      const tiff = await fromFile(focalFile);
      try {
        const count = await tiff.getImageCount();
        for (let k = 0; k < count; k++) await (await tiff.getImage(k)).readRasters();
      } finally {
        await tiff.close();
      }
      g.push((performance.now() - t) / 1000);
      log(`  run ${i + 1}: geotiff read ${g[i].toFixed(3)} s`);
    }

    if (py) {
      const { stdout } = await run(py, ['-c', PY_BENCH, focalFile, pyFile, String(width), String(height), String(planes), '1'], { maxBuffer: 1 << 20 });
      const r = JSON.parse(stdout) as { version: string; write: number[]; read: number[] };
      pyVersion = r.version;
      pyWrites.push(r.write[0]);
      pyReads.push(r.read[0]);
      log(`  run ${i + 1}: tifffile write ${r.write[0].toFixed(3)} s, read ${r.read[0].toFixed(3)} s`);
    }
  }
  const geotiff: IoBenchResult['geotiff'] = g.length > 0 ? { read: timing(g, bytes) } : undefined;
  const tifffile: IoBenchResult['tifffile'] = py ? { version: pyVersion, python: py, write: timing(pyWrites, bytes), read: timing(pyReads, bytes) } : undefined;
  await rm(focalFile, { force: true });
  await rm(pyFile, { force: true });

  const focal = { write: timing(writes, bytes), read: timing(reads, bytes) };
  const result: IoBenchResult = {
    date: isoDate(),
    machine: { ...machine, loadAtStart: machine.load[0] },
    shape: { width, height, planes, dtype: 'uint16' },
    bytes,
    fileBytes,
    repetitions: reps,
    focal,
    geotiff,
    tifffile,
    ratio: tifffile ? { write: focal.write.mbPerS / tifffile.write.mbPerS, read: focal.read.mbPerS / tifffile.read.mbPerS } : undefined,
    markdown: '',
  };
  result.markdown = markdown(result);
  await writeBenchDocs(options, 'io', result.markdown, log);
  return result;
}

if (isMain(import.meta.url)) {
  runBenchMain((a) => runIoBench({ planes: a.number('--planes'), repetitions: a.number('--reps'), writeDocs: !a.has('--no-docs') }), (r) => r.markdown);
}
