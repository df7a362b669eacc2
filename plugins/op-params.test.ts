/**
 * Op params come from the op's zod schema: `run` receives `z.output<typeof params>` (the
 * executor parsed and defaulted them), so no op re-declares them as an interface, annotates
 * run's params with another type, or parses them again inside `run`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from '../core/index.js';
import { landweberOp, landweberParams } from './deconvolution/ops/landweber.js';
import { richardsonLucyOp, richardsonLucyParams } from './deconvolution/ops/richardson-lucy.js';
import { thresholdOp, thresholdParams } from './cellcount/ops/threshold.js';
import { fuse, fuseParams } from './edof/ops/fuse.js';
import { psfGaussian, psfGaussianParams } from './optics/ops/psf-gaussian.js';
import { gaussian, gaussianParams } from './filter/ops/gaussian.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Every op source file of every plugin except deepr (the kit's). */
function opSources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const plugin of readdirSync(here, { withFileTypes: true })) {
    if (!plugin.isDirectory() || plugin.name === 'deepr') continue;
    const dir = join(here, plugin.name, 'ops');
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push({ file: `${plugin.name}/ops/${name}`, text: readFileSync(join(dir, name), 'utf8') });
    }
  }
  return out;
}

describe('op params are the schema output', () => {
  it('run receives z.output of the params schema (type level)', () => {
    expectTypeOf(landweberOp.run).parameter(2).toEqualTypeOf<z.output<typeof landweberParams>>();
    expectTypeOf(richardsonLucyOp.run).parameter(2).toEqualTypeOf<z.output<typeof richardsonLucyParams>>();
    expectTypeOf(thresholdOp.run).parameter(2).toEqualTypeOf<z.output<typeof thresholdParams>>();
    expectTypeOf(fuse.run).parameter(2).toEqualTypeOf<z.output<typeof fuseParams>>();
    expectTypeOf(psfGaussian.run).parameter(2).toEqualTypeOf<z.output<typeof psfGaussianParams>>();
    expectTypeOf(gaussian.run).parameter(2).toEqualTypeOf<z.output<typeof gaussianParams>>();
    expectTypeOf(thresholdOp.run).parameter(2).toHaveProperty('method').toEqualTypeOf<z.output<typeof thresholdParams>['method']>();
    // the runtime value is the schema itself
    expect(landweberOp.params).toBe(landweberParams);
  });

  it('no op file re-declares params, annotates run\'s params or parses them again in run', () => {
    const sources = opSources();
    expect(sources.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const { file, text } of sources) {
      if (/\binterface\s+\w*Params\b|\btype\s+\w*Params\s*=\s*\{/.test(text)) problems.push(`${file}: a hand-written *Params type (derive it with z.output)`);
      if (/\brun\s*\([^)]*,[^)]*,\s*\w+\s*:/.test(text)) problems.push(`${file}: run's params are annotated (they are z.output of the schema)`);
      if (/\bparams\s*\.\s*(parse|safeParse)\s*\(|\bParams\s*\.\s*(parse|safeParse)\s*\(/.test(text)) problems.push(`${file}: params parsed again (the executor parsed them)`);
    }
    expect(problems).toEqual([]);
  });
});
