import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FocalError, manifestFromPlugin, type OpContext } from '../core/index.js';
import { assertParamAllocation } from '../core/imaging.js';
import { psfBornWolf } from './optics/ops/psf-born-wolf.js';
import { psfGaussian } from './optics/ops/psf-gaussian.js';
import { focal, tempDir } from '../test/helpers.js';
import { builtinPlugins } from './index.js';

type Json = Record<string, unknown>;

/** Every `type: number|integer` schema inside `schema` (through properties, items, anyOf/oneOf/allOf), with its path. */
function numberSchemas(schema: unknown, path: string, out: { path: string; schema: Json }[] = []): { path: string; schema: Json }[] {
  if (!schema || typeof schema !== 'object') return out;
  const s = schema as Json;
  if (s.type === 'number' || s.type === 'integer') out.push({ path, schema: s });
  if (s.properties && typeof s.properties === 'object') for (const [k, v] of Object.entries(s.properties as Json)) numberSchemas(v, `${path}.${k}`, out);
  if (s.items) for (const [i, v] of (Array.isArray(s.items) ? s.items : [s.items]).entries()) numberSchemas(v, `${path}[${Array.isArray(s.items) ? i : '*'}]`, out);
  if (Array.isArray(s.prefixItems)) s.prefixItems.forEach((v, i) => numberSchemas(v, `${path}[${i}]`, out));
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) if (Array.isArray(s[key])) (s[key] as unknown[]).forEach((v) => numberSchemas(v, path, out));
  return out;
}

const lower = (s: Json) => (typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum : undefined);
const upper = (s: Json) => (typeof s.maximum === 'number' ? s.maximum : typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum : undefined);

describe('built-in operation params', () => {
  // ±Number.MAX_SAFE_INTEGER is what zod writes for a bare `.int()`: no bound of ours.
  // Intensity-valued params (thresholds, fill, offsets) may span float32 (±3.4e38).
  it('bound every numeric parameter with a finite minimum and maximum', () => {
    const unbounded: string[] = [];
    let count = 0;
    for (const plugin of builtinPlugins) {
      for (const op of manifestFromPlugin(plugin).operations) {
        for (const { path, schema } of numberSchemas(op.params, op.id)) {
          count++;
          const lo = lower(schema);
          const hi = upper(schema);
          if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo! < hi! && Math.abs(lo!) !== Number.MAX_SAFE_INTEGER && Math.abs(hi!) !== Number.MAX_SAFE_INTEGER)) unbounded.push(`${path} [${lo}, ${hi}]`);
        }
      }
    }
    expect(count).toBeGreaterThan(50);
    expect(unbounded).toEqual([]);
  });
});

describe('focal validate (dist/)', () => {
  it('refuses a huge parameter before anything runs, naming the node and field (exit 2)', () => {
    const dir = tempDir();
    const file = join(dir, 'huge.json');
    writeFileSync(file, JSON.stringify({
      name: 'huge',
      inputs: { s: { type: 'stack' } },
      nodes: {
        blur: { op: 'filter.gaussian', in: { stack: 's' }, params: { sigmaPx: 1e300 } },
        rl: { op: 'deconvolution.richardson-lucy', in: { image: 'blur.stack', psf: 's' }, params: { iterations: 1e9 } },
      },
      outputs: { o: 'rl.image' },
    }));
    const r = focal(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/nodes\/blur\/params\/sigmaPx.*1000/);
    expect(r.stderr).toMatch(/\/nodes\/rl\/params\/iterations.*10000/);
  });
});

const ctx = { log: { debug() {}, info() {}, warn() {}, error() {} }, progress() {}, signal: new AbortController().signal, services: {} } as unknown as OpContext;

function refusal(run: () => unknown): FocalError {
  try {
    run();
  } catch (err) {
    if (err instanceof FocalError) return err;
    throw err;
  }
  throw new Error('expected a FocalError');
}

describe('ops that allocate from params estimate the bytes first', () => {
  it('optics.psf-gaussian refuses a window over the budget, naming size, before allocating', () => {
    const err = refusal(() => psfGaussian.run(ctx, {}, psfGaussian.params.parse({ sigmaPx: 2, size: 65535 })));
    expect(err.code).toBe('E_PARAMS');
    expect(err.details?.field).toBe('size');
    expect(err.message).toMatch(/^size: a 65535×65535-px PSF would need about 48\.0 GiB/);
  });

  it('optics.psf-born-wolf counts every defocus plane', () => {
    const params = psfBornWolf.params.parse({ na: 0.75, wavelengthUm: 0.5, pixelSizeUm: 0.3, size: 16001, defocusUm: [0, 1, 2, 3, 4] });
    const err = refusal(() => psfBornWolf.run(ctx, {}, params));
    expect(err.code).toBe('E_PARAMS');
    expect(err.details?.field).toBe('size');
    expect(err.message).toMatch(/5 plane\(s\) of 16001×16001 px/);
  });

  it('assertParamAllocation passes within the budget and refuses above it', () => {
    expect(() => assertParamAllocation('size', 1024, 'x', 2048)).not.toThrow();
    expect(refusal(() => assertParamAllocation('size', 4096, 'x', 2048)).details).toMatchObject({ field: 'size', bytes: 4096, budget: 2048 });
  });
});
