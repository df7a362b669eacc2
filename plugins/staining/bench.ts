/**
 * Bench of the cascade (G_DR then G_VS) on this machine:
 *   node dist/plugins/staining/bench.js [--reps 5] [--engine auto|onnxruntime|tfjs]
 * Times one 512 × 512 two-channel field through the bundled demo cascade, as one tile (the
 * paper's unit, ~0.1 s on an RTX 2080 Ti) and tiled (256-px tiles, the package's halo), and
 * derives the time per cm² of slide at 0.1625 µm px. Prints JSON.
 */
import { resolve } from 'node:path';
import { loadModelPackage, type EngineChoice } from '../../core/ml.js';
import { openCascade } from './package.js';
import { cascadeField } from './stain.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const reps = Number(arg('reps', '5'));
const engine = arg('engine', 'auto') as EngineChoice;
const c = await openCascade(resolve(arg('cascade', 'models/staining-cascade-demo')), resolve(arg('staining', 'models/staining-demo')), engine);
const N = 512;
let s = 7;
const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
const af = [0, 1].map(() => Float32Array.from({ length: N * N }, rnd));
const time = async (tilePx: number, haloPx: number) => {
  await cascadeField(af, N, N, c.refocus, c.stain, { tilePx, haloPx, multipleOf: 32 });
  const t = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await cascadeField(af, N, N, c.refocus, c.stain, { tilePx, haloPx, multipleOf: 32 });
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)] / 1000;
};
const whole = await time(N, 0);
const tiled = await time(256, Math.max(c.cascade.manifest.haloPx, c.staining.manifest.haloPx));
const fieldsPerCm2 = 1e8 / (N * 0.1625) ** 2;
const pkg = await loadModelPackage(resolve(arg('cascade', 'models/staining-cascade-demo')));
console.log(JSON.stringify({
  engine: c.refocus.kind, cascade: pkg.manifest.name, reps, fieldPx: N, secondsPerField512: whole, secondsPerField512Tiled256: tiled,
  fieldsPerCm2: Math.round(fieldsPerCm2), minutesPerCm2: (whole * fieldsPerCm2) / 60, secondsPer2048Field: whole * 16, cpus: (await import('node:os')).cpus().length,
}));
await c.dispose();
