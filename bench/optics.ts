/**
 * Optics benchmark: the Born & Wolf PSF and the defocus convolution (FFT, half-sample
 * mirror boundaries) against direct convolution in JS and SciPy's ndimage.convolve
 * (mode='reflect', the same boundary) and signal.fftconvolve (on a symmetric-padded image),
 * on the same 512 × 512 image and 65 × 65 PSF, in the same run; results are checked equal.
 * Writes the section between <!-- bench:optics --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/optics.js [--no-docs]
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Xoshiro128 } from '../core/index.js';
import { bornWolfPsf, defocusSeries } from '../core/imaging.js';
import { convolveDirect, FftConvolver, ImageConvolver } from '../core/spectral.js';
import { describeMachine, formatLoad, isMain, isoDate, machineInfo, median, runBenchMain, writeBenchDocs } from './common.js';

const run = promisify(execFile);
const SETTINGS = { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.447, pixelSizeUm: 0.325 };

function time<T>(fn: () => T, reps: number): { s: number[]; value: T } {
  const s: number[] = [];
  let value!: T;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    value = fn();
    s.push((performance.now() - t) / 1000);
  }
  return { s, value };
}

function image(size: number): Float32Array {
  const rng = new Xoshiro128(7);
  const img = new Float32Array(size * size).fill(10);
  for (let k = 0; k < 400; k++) {
    const cx = rng.uniform() * size;
    const cy = rng.uniform() * size;
    const r = 3 + 6 * rng.uniform();
    const v = 100 + 900 * rng.uniform();
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(size, cy + r + 1); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(size, cx + r + 1); x++) if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) img[y * size + x] = v;
    }
  }
  return img;
}

const PY = `
import sys, time, json, numpy as np, scipy
from scipy import ndimage, signal
d = sys.argv[1]; n = int(sys.argv[2]); k = int(sys.argv[3])
img = np.fromfile(d + '/img.f32', dtype=np.float32).reshape(n, n).astype(np.float64)
psf = np.fromfile(d + '/psf.f32', dtype=np.float32).reshape(k, k).astype(np.float64)
ours = np.fromfile(d + '/ours.f64', dtype=np.float64).reshape(n, n)
r = (k - 1) // 2
def t(f, reps):
    out = []
    for _ in range(reps):
        s = time.perf_counter(); v = f(); out.append(time.perf_counter() - s)
    return out, v
nd, a = t(lambda: ndimage.convolve(img, psf, mode='reflect'), 1)
ff, b = t(lambda: signal.fftconvolve(np.pad(img, r, mode='symmetric'), psf, mode='valid'), 3)
print(json.dumps({'scipy': scipy.__version__, 'ndimage': nd, 'fftconvolve': ff,
  'diffNdimage': float(np.abs(a - ours).max()), 'diffFft': float(np.abs(b - ours).max()), 'max': float(ours.max())}))
`;

export async function runOpticsBench(options: { writeDocs?: boolean; docsPath?: string; log?: (m: string) => void } = {}): Promise<string> {
  const log = options.log ?? ((m: string) => console.log(m));
  const n = 512;
  const k = 65;
  const img = image(n);
  const psfT = time(() => bornWolfPsf({ ...SETTINGS, defocusUm: 4, sizePx: k }), 3);
  const psf = psfT.value;
  log(`Born & Wolf PSF 65×65: ${psfT.s.map((s) => s.toFixed(3)).join(', ')} s`);
  const fftT = time(() => new ImageConvolver(img, n, n, (k - 1) / 2, (k - 1) / 2, { boundary: 'reflect' }).convolve(psf, k), 3);
  const grid = new FftConvolver(n, n, (k - 1) / 2);
  log(`FFT convolution: ${fftT.s.map((s) => s.toFixed(3)).join(', ')} s`);
  const directT = time(() => convolveDirect(img, n, n, psf, k, k, { boundary: 'reflect' }), 1);
  log(`direct convolution: ${directT.s[0].toFixed(2)} s`);
  let diffDirect = 0;
  for (let i = 0; i < n * n; i++) diffDirect = Math.max(diffDirect, Math.abs(directT.value[i] - fftT.value[i]));
  const zT = time(() => defocusSeries(img, n, n, { ...SETTINGS, defocusUm: Array.from({ length: 13 }, (_, i) => -3 + 0.5 * i), photons: 1000, readNoiseE: 2, seed: 1 }), 1);
  log(`13-plane z-stack with noise: ${zT.s[0].toFixed(2)} s`);
  // Deep-R's tilted sample: 1.5° over the 166 µm field of 512 × 0.325 µm pixels = 4.36 µm of defocus
  const tiltT = time(() => defocusSeries(img, n, n, { ...SETTINGS, defocusUm: [0], tiltDeg: 1.5, binStepUm: 0.1 }), 1);
  log(`tilted 1.5° (0.1 µm bins): ${tiltT.s[0].toFixed(2)} s`);

  const dir = resolve('bench/data/optics');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'img.f32'), new Uint8Array(img.buffer));
  await writeFile(join(dir, 'psf.f32'), new Uint8Array(psf.buffer));
  await writeFile(join(dir, 'ours.f64'), new Uint8Array(fftT.value.buffer));
  const py = JSON.parse((await run('python3', ['-c', PY, dir, String(n), String(k)], { maxBuffer: 1 << 20 })).stdout) as {
    scipy: string; ndimage: number[]; fftconvolve: number[]; diffNdimage: number; diffFft: number; max: number;
  };
  log(`scipy ${py.scipy}: ndimage.convolve ${py.ndimage[0].toFixed(2)} s, fftconvolve ${py.fftconvolve.map((s) => s.toFixed(3)).join(', ')} s`);

  const machine = machineInfo();
  const f = (xs: number[]) => xs.map((s) => s.toFixed(3)).join(', ');
  const md = `<!-- bench:optics -->
## Optics: Born & Wolf PSF and defocus convolution (bench/optics.ts)

Image: 512 × 512 float synthetic discs; PSF: Born & Wolf, 20×/0.75 NA dry, λ = 0.447 µm, 0.325 µm pixels, 4 µm defocus, 65 × 65 px. Convolution with half-sample mirror boundaries (SciPy \`mode='reflect'\`). Focal's FFT time includes padding, the image's and the PSF's FFTs and the inverse (core's \`ImageConvolver\`, core/numeric/fft: float64 mixed-radix real FFT, padded to ${grid.nx} × ${grid.ny} here, 5-smooth sizes).

Machine: ${describeMachine(machine)}. Date: ${isoDate()}. Load average at the end: ${formatLoad(machine.load, 2)} — measured while other jobs shared the machine.

| Step | Median (s) | Runs (s) |
|---|---:|---|
| Focal: bornWolfPsf 65 × 65 (3×3 oversampling, adaptive Gauss–Legendre) | ${median(psfT.s).toFixed(3)} | ${f(psfT.s)} |
| Focal: FFT convolution (core ImageConvolver, reflect) | ${median(fftT.s).toFixed(3)} | ${f(fftT.s)} |
| Focal: direct convolution (core convolveDirect, reflect) | ${directT.s[0].toFixed(3)} | ${f(directT.s)} |
| SciPy ${py.scipy}: ndimage.convolve(mode='reflect') (direct) | ${py.ndimage[0].toFixed(3)} | ${f(py.ndimage)} |
| SciPy ${py.scipy}: signal.fftconvolve on np.pad(…, 'symmetric') | ${median(py.fftconvolve).toFixed(3)} | ${f(py.fftconvolve)} |
| Focal: defocusSeries, 13 planes −3…+3 µm with noise (PSFs included) | ${zT.s[0].toFixed(3)} | ${f(zT.s)} |
| Focal: one plane tilted 1.5° (±2.2 µm, 45 layers of 0.1 µm, PSFs included) | ${tiltT.s[0].toFixed(3)} | ${f(tiltT.s)} |

Largest difference from Focal's FFT result (image max ${py.max.toFixed(1)}): direct JS ${diffDirect.toExponential(1)}, ndimage ${py.diffNdimage.toExponential(1)}, fftconvolve ${py.diffFft.toExponential(1)}. FFT vs direct in Focal: ${(directT.s[0] / median(fftT.s)).toFixed(1)}× faster, hence the FFT. SciPy fftconvolve time / Focal FFT time: ${(median(py.fftconvolve) / median(fftT.s)).toFixed(2)}× (above 1 = Focal faster).

Reproduce: \`npx tsc -p tsconfig.build.json && node dist/bench/optics.js\`
<!-- /bench:optics -->`;
  await writeBenchDocs(options, 'optics', md, log);
  return md;
}

if (isMain(import.meta.url)) {
  runBenchMain((a) => runOpticsBench({ writeDocs: !a.has('--no-docs') }));
}
