/**
 * The ringing check of issue 17 as a figure: a 20 µm uniform disc (specimen family `disc`, held
 * out of training) at 5000 e⁻ is imaged with the demo optics at 0…4 µm (Poisson–Gaussian noise,
 * 1.5 e⁻ read noise) and refocused by deepr.autofocus with its default parameters (and, as a
 * second curve set, `safety: 'consistency'`). For each plane: the 99th percentile of the output
 * inside the disc (3 px from its edge), relative to the in-focus intensity — the quantity
 * safety.test.ts bounds at 5 % — and a profile through the centre.
 *
 *   npx tsc -p tsconfig.build.json && node dist/plugins/deepr/tools/disc-profile.js [--model <package>] [--out plugins/deepr/docs/img]
 *
 * Writes <out>/deepr-disc-profile.png and <out>/deepr-disc-overshoot.csv.
 */
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, renderLinePlot, testContext, writeFileAtomic, type Stack } from '../../../core/index.js';
import { defocusSeries } from '../../../core/imaging.js';
import { renderSpecimen } from '../../../core/specimens.js';
import { autofocus } from '../ops/autofocus.js';

const N = 128;
const PIXEL_UM = 0.325;
const PEAK = 5000;
const DZ = [0, 1, 2, 3, 4];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The 99th percentile of `plane` inside a centred disc of `radiusPx` (less a margin), over `level`. */
export function overshootInside(plane: ArrayLike<number>, size: number, radiusPx: number, level: number, marginPx = 3): number {
  const inside: number[] = [];
  const c = (size - 1) / 2;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (Math.hypot(x - c, y - c) < radiusPx - marginPx) inside.push(plane[y * size + x]);
  inside.sort((a, b) => a - b);
  return inside[Math.floor(0.99 * inside.length)] / level - 1;
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
  const outDir = resolve(arg('--out') ?? join(root, 'plugins', 'deepr', 'docs', 'img'));
  const model = arg('--model') ? resolve(arg('--model')!) : undefined;
  const r = renderSpecimen({ family: 'disc', widthPx: N, heightPx: N, pixelSizeUm: PIXEL_UM, seed: 1, peakPhotons: PEAK, backgroundPhotons: 10, params: { diameterUm: 20, offsetX: 0, offsetY: 0 } });
  if (r.modality !== 'fluorescence') throw new Error('disc: fluorescence expected');
  let level = 0;
  for (const v of r.image) level = Math.max(level, v);
  const planes = defocusSeries(r.image, N, N, { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: PIXEL_UM, defocusUm: DZ, photons: level, readNoiseE: 1.5, seed: 1 }).map((p) => Float32Array.from(p.image, (v) => Math.max(0, Math.round(v))));
  const stack = createStack({ width: N, height: N, dtype: 'float32', sizeZ: DZ.length, planes });
  const run = async (safety: 'off' | 'consistency') => ((await autofocus.run(testContext(), { image: stack }, autofocus.params.parse({ safety, ...(model ? { model } : {}) }))) as { image: Stack }).image;
  const raw = await run('off');
  const safe = await run('consistency');
  const radiusPx = 10 / PIXEL_UM;
  const csv = ['defocusUm,input,deepr,deeprSafety'];
  const lines: string[] = [];
  DZ.forEach((dz, k) => {
    const o = [planes[k], raw.planes[k], safe.planes[k]].map((p) => overshootInside(p, N, radiusPx, level));
    csv.push([dz, ...o.map((v) => v.toFixed(4))].join(','));
    lines.push(`${dz} µm: input ${(100 * o[0]).toFixed(1)} %, Deep-R ${(100 * o[1]).toFixed(1)} %, with the safety check ${(100 * o[2]).toFixed(1)} %`);
  });
  const row = N / 2;
  const x = Array.from({ length: N }, (_, i) => (i - (N - 1) / 2) * PIXEL_UM);
  const profile = (p: ArrayLike<number>) => x.map((_, i) => p[row * N + i] / level);
  const colours: [number, number, number][] = [[220, 0, 0], [240, 150, 0], [0, 160, 60], [0, 110, 220], [150, 0, 150]];
  const series = [
    { label: 'in focus (truth)', colour: [0, 0, 0] as [number, number, number], x, y: profile(r.image) },
    { label: 'input 2 um', colour: [150, 150, 150] as [number, number, number], x, y: profile(planes[2]) },
    ...DZ.map((dz, k) => ({ label: `Deep-R ${dz} um`, colour: colours[k], x, y: profile(raw.planes[k]) })),
  ];
  await writeFileAtomic(join(outDir, 'deepr-disc-profile.png'), renderLinePlot(series, 900, 420, { logY: false, markers: false, xTitle: 'position through the disc centre (µm)', yTitle: 'intensity / in-focus level' }), { mkdir: true });
  await writeFileAtomic(join(outDir, 'deepr-disc-overshoot.csv'), `${csv.join('\n')}\n`);
  console.log(`overshoot inside the 20 µm disc (99th percentile / in-focus level − 1):\n${lines.join('\n')}`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
