/**
 * Issue 14: `focal info` in text mode shows the reader's warnings (an interrupted acquisition,
 * a missing split file of an MMStack series, reduced-size pages of another series), as
 * `focal: warning: <file>: <message>` lines on stderr and a `warnings:` section on stdout;
 * before, only `--json` had them.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { focal, ROOT } from './helpers.js';

const FX = join(ROOT, 'core', 'io', 'fixtures');

describe('focal info warnings (text mode)', () => {
  const cases: [string, string, RegExp][] = [
    ['an interrupted acquisition', 'mm_interrupted/Int_MMStack_Pos0.ome.tif', /Int_MMStack_Pos0\.ome\.tif: OME-XML describes 30 planes .* only 22 exist .*read 18 of 30 planes as c=2, z=3, t=3/],
    ['a missing split file', 'mmstack_missing/Exp_MMStack_Pos0.ome.tif', /Exp_MMStack_Pos0\.ome\.tif: Exp_MMStack_Pos0_1\.ome\.tif of this series is missing/],
    ['a second series at reduced size', 'tifffile_with_thumbnails.tif', /tifffile_with_thumbnails\.tif: skipped 2 page\(s\) that are reduced-resolution copies/],
  ];

  it.each(cases)('prints %s on stderr and in a warnings: section, as --json has it', (_what, file, pattern) => {
    const json = focal(['info', join(FX, file), '--json']);
    expect(json.code).toBe(0);
    const warnings = (JSON.parse(json.stdout) as { warnings: string[] }).warnings;
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.join('\n')).toMatch(pattern);
    expect(json.stderr).toBe(''); // --json: the warnings are in the JSON, not on stderr

    const text = focal(['info', join(FX, file)]);
    expect(text.code).toBe(0);
    const stderr = text.stderr.trim().split('\n');
    expect(stderr).toHaveLength(warnings.length);
    for (const [i, w] of warnings.entries()) expect(stderr[i]).toBe(`focal: warning: ${w}`);
    expect(text.stderr).toMatch(pattern);
    const section = text.stdout.slice(text.stdout.indexOf('\n  warnings:\n'));
    expect(section.startsWith('\n  warnings:\n'), text.stdout).toBe(true);
    for (const w of warnings) expect(section).toContain(`    - ${w}\n`);
  });

  it('prints no warnings for a clean file', () => {
    const r = focal(['info', join(FX, 'mmstack', 'Exp_MMStack_Pos0.ome.tif')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/c=2 z=3 t=4/);
    expect(r.stdout).not.toMatch(/warnings:/);
    expect(r.stderr).toBe('');
  });
});
