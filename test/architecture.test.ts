/**
 * The floors (docs/architecture.md, "The library floor"): cli → plugins → core, and each
 * floor reaches the one below only through its public entry.
 *
 * - a plugin (plugins/<a>/) imports nothing of another plugin's folder (plugins/<b>/); its
 *   tests may import the built-in list plugins/index.ts to run a pipeline spanning plugins;
 * - core imports nothing from plugins/ or cli/;
 * - plugins and cli import core only through its public entries: core/index.ts and the library
 *   floors core/imaging.ts, core/specimens.ts and core/ml.ts; a plugin may also use the
 *   deliberate entry core/spectral.ts (FFT plans and spectral backends), the cli core/startup.ts;
 * - core/index.ts re-exports none of the floors (FFT internals, imaging, specimens, learning kit).
 *
 * Every import and re-export specifier of every .ts/.tsx file, static or dynamic
 * (`import('…')`, `import type`), is resolved relative to its file and checked.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const CORE_ENTRY = 'core/index.ts';
/** Core's small second entry for the CLI's start-up (core/startup.ts: error class, backend names, version). */
const CORE_STARTUP = 'core/startup.ts';
const BUILTIN_LIST = 'plugins/index.ts';
/** Core's second public entry (`focal/spectral`): FFT plans, PFFFT backends, SIMD switch, convolvers. */
const CORE_SPECTRAL = 'core/spectral.ts';
/** Core's library floors, each its own public entry: `focal/imaging`, `focal/specimens`, `focal/ml` (the learning kit). */
const CORE_FLOORS = ['core/imaging.ts', 'core/specimens.ts', 'core/ml.ts'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative specifiers of `from '…'`, `import '…'` and `import('…')`, resolved to repo paths (.js → .ts). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => relative(ROOT, resolve(dirname(file), s)).split(sep).join('/').replace(/\.js$/, '.ts').replace(/\.jsx$/, '.tsx'));
}

function pluginOf(path: string): string | undefined {
  const m = /^plugins\/([^/]+)\//.exec(path);
  return m ? m[1] : undefined;
}

/** The rule an import from `file` to `target` (repo paths) breaks, or undefined. */
export function brokenRule(file: string, target: string): string | undefined {
  const from = pluginOf(file);
  const coreInternal = target.startsWith('core/') && target !== CORE_ENTRY && !CORE_FLOORS.includes(target);
  if (file.startsWith('core/')) {
    return target.startsWith('plugins/') || target.startsWith('cli/') ? 'core imports no plugin or cli code' : undefined;
  }
  if (file.startsWith('cli/')) return coreInternal && target !== CORE_STARTUP ? `cli uses core only through ${CORE_ENTRY}, its library floors (${CORE_FLOORS.join(', ')}) or ${CORE_STARTUP}` : undefined;
  if (!file.startsWith('plugins/')) return undefined;
  if (coreInternal && target !== CORE_SPECTRAL) return `plugins use core only through ${CORE_ENTRY}, its library floors (${CORE_FLOORS.join(', ')}) or ${CORE_SPECTRAL}`;
  const isTest = /\.test\.tsx?$/.test(file);
  if (from !== undefined && target.startsWith('plugins/') && pluginOf(target) !== from && !(isTest && target === BUILTIN_LIST)) {
    return `plugin '${from}' imports another plugin's folder`;
  }
  return undefined;
}

/** Every violation in the tree, as `file → import: rule`. */
function violations(): string[] {
  const out: string[] = [];
  for (const abs of ['core', 'cli', 'plugins'].flatMap((d) => sourceFiles(join(ROOT, d)))) {
    const file = relative(ROOT, abs).split(sep).join('/');
    for (const target of importsOf(abs)) {
      const rule = brokenRule(file, target);
      if (rule) out.push(`${file} → ${target}: ${rule}`);
    }
  }
  return out;
}

describe('architecture: the floors and their public entries', () => {
  const found = violations();

  it('reads the imports of the tree and names each kind of violation', () => {
    expect(importsOf(join(ROOT, 'plugins/filter/index.ts'))).toContain(CORE_ENTRY);
    expect(importsOf(join(ROOT, 'plugins/index.ts'))).toContain('plugins/filter/index.ts');
    expect(brokenRule('plugins/edof/filters.ts', 'plugins/filter/index.ts')).toMatch(/another plugin/);
    expect(brokenRule('plugins/edof/ops/fuse.ts', 'plugins/index.ts')).toMatch(/another plugin/);
    expect(brokenRule('plugins/edof/fuse.test.ts', 'plugins/index.ts')).toBeUndefined();
    expect(brokenRule('plugins/edof/ops/fuse.ts', 'plugins/edof/fuse.ts')).toBeUndefined();
    expect(brokenRule('plugins/edof/fuse.ts', 'core/imaging/gaussian.ts')).toMatch(/only through/);
    expect(brokenRule('plugins/edof/fuse.ts', CORE_ENTRY)).toBeUndefined();
    expect(brokenRule('plugins/edof/fuse.ts', 'core/imaging.ts')).toBeUndefined();
    expect(brokenRule('cli/commands/train.ts', 'core/ml.ts')).toBeUndefined();
    expect(brokenRule('plugins/deconvolution/rl-fused.ts', CORE_SPECTRAL)).toBeUndefined();
    expect(brokenRule('plugins/deconvolution/rl-fused.ts', 'core/numeric/fft/spectral.ts')).toMatch(/only through/);
    expect(brokenRule('cli/commands/run.ts', CORE_SPECTRAL)).toMatch(/only through/);
    expect(brokenRule('core/runtime/runner.ts', 'plugins/index.ts')).toMatch(/core imports no plugin/);
    expect(brokenRule('core/runtime/runner.ts', 'cli/main.ts')).toMatch(/core imports no plugin/);
    expect(brokenRule('cli/commands/run.ts', 'core/runtime/runner.ts')).toMatch(/only through/);
    expect(brokenRule('cli/commands/run.ts', 'plugins/index.ts')).toBeUndefined();
  });

  it('no plugin imports another plugin; core imports no plugin or cli; plugins and cli reach core only through core/index.ts', () => {
    expect(found).toEqual([]);
  });

  it("core's public entry keeps the floors out: FFT internals, the imaging and specimen libraries and the learning kit have their own entries", () => {
    const reexports = importsOf(join(ROOT, CORE_ENTRY));
    expect(reexports.filter((t) => t.startsWith('core/numeric/fft/') || t.startsWith('core/imaging/') || t.startsWith('core/specimens/'))).toEqual([]);
    expect(reexports.filter((t) => t.startsWith('core/ml/')).sort()).toEqual(['core/ml/backend-names.ts', 'core/ml/plot.ts']);
    expect(importsOf(join(ROOT, CORE_SPECTRAL))).toContain('core/numeric/fft/spectral.ts');
    expect(importsOf(join(ROOT, 'core/imaging.ts'))).toEqual(['core/imaging/index.ts']);
    expect(importsOf(join(ROOT, 'core/specimens.ts'))).toContain('core/specimens/index.ts');
    expect(importsOf(join(ROOT, 'core/ml.ts'))).toContain('core/ml/trainer.ts');
  });
});
