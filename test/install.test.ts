import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { allowScripts?: Record<string, boolean> };
const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };

/** Package name from a lock-file key such as node_modules/a/node_modules/@s/b. */
function nameOf(key: string): string {
  return key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

describe('offline install (docs/install.md)', () => {
  it("denies onnxruntime-node's install script, which downloads CUDA files from outside the npm registry", () => {
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
  });

  it('decides for every dependency that has an install script (a new one must be reviewed for downloads)', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([key, p]) => key !== '' && p.hasInstallScript)
      .map(([key]) => nameOf(key));
    expect(withScripts.length).toBeGreaterThan(0);
    const undecided = withScripts.filter((name) => typeof pkg.allowScripts?.[name] !== 'boolean');
    expect(undecided, `add these to allowScripts in package.json (false unless the script is needed and downloads nothing outside the npm registry, or the package is optional): ${undecided.join(', ')}`).toEqual([]);
  });
});
