import { readFile } from 'node:fs/promises';

let cachedVersion: string | undefined;

/** Focal's own version, from its package.json (source tree or dist/). */
export async function hostFocalVersion(): Promise<string> {
  if (cachedVersion) return cachedVersion;
  for (const url of [new URL('../../package.json', import.meta.url), new URL('../../../package.json', import.meta.url)]) {
    try {
      const pkg = JSON.parse(await readFile(url, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'focal' && typeof pkg.version === 'string') return (cachedVersion = pkg.version);
    } catch {
      // try the next location
    }
  }
  return (cachedVersion = '0.0.0');
}
