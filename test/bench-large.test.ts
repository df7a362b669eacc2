import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runLargeBench } from '../bench/large.js';
import { benchArgs } from '../bench/common.js';

/** libvips and tifffile are the bench's references (scripts/install-system-deps.sh installs both). */
function missingTools(): string | undefined {
  try {
    execFileSync('vips', ['--version']);
  } catch {
    return 'libvips-tools (vips) is not installed';
  }
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import tifffile']);
  } catch {
    return 'python3-tifffile is not installed';
  }
  return undefined;
}

describe('bench/large (small run)', () => {
  it('times Focal and vips on a generated slide and checks both pyramids with tifffile', async (ctx) => {
    const missing = missingTools();
    if (missing) {
      if (process.env.CI) throw new Error(`${missing}; CI runs scripts/install-system-deps.sh`);
      ctx.skip(`${missing} (scripts/install-system-deps.sh installs it)`);
    }
    const md = await runLargeBench(benchArgs(['--size', '1100', '--no-docs']));
    expect(md).toMatch(/\| read \| [\d.]+ \| [\d.]+ \| \d+ \| \d+ \| [\d.]+ \| [\d.]+ \|/);
    expect(md).toContain('| Gaussian σ = 2 px → pyramid |');
    expect(md).toContain('| Gaussian σ = 2 px → pyramid, tiles on one thread |');
    expect(md).toMatch(/Worker pool against one thread \(Gaussian → pyramid\): [\d.]+ s against [\d.]+ s wall/);
    // 1100 → 550 → 275 (fits a 512 tile): three levels in both files
    expect(md.match(/tifffile levels 1100x1100 550x550 275x275;/g)).toHaveLength(2);
    expect(md.match(/vips \d+ MB, tifffile levels 1100x1100 550x550 275x275/g)).toHaveLength(2);
  }, 180_000);
});
