import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Static imports of a module (not `await import()`), resolved: relative ones to files, bare ones as package names. */
function staticImports(file: string): { files: string[]; packages: string[] } {
  const src = readFileSync(file, 'utf8');
  const files: string[] = [];
  const packages: string[] = [];
  for (const m of src.matchAll(/^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
    if (/^\s*(?:import|export)\s+type\s/.test(m[0])) continue; // erased at compile time
    const spec = m[1];
    if (spec.startsWith('.')) {
      const base = resolve(dirname(file), spec).replace(/\.js$/, '');
      const hit = ['.ts', '.tsx'].map((x) => base + x).find((f) => existsSync(f));
      if (hit) files.push(hit);
    } else packages.push(spec);
  }
  return { files, packages };
}

describe('headless CLI', () => {
  it('cli/main.ts and cli/program.ts do not load Ink, React or cli/tui/ statically (the tui command imports them lazily)', () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    // the entry, the program it imports, and the command modules it imports when a command runs (run, tui, …)
    const todo = [join(root, 'cli/main.ts'), join(root, 'cli/program.ts'), join(root, 'cli/commands/run.ts'), join(root, 'cli/commands/tui.ts'), join(root, 'cli/commands/watch.ts')];
    while (todo.length) {
      const f = todo.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      const { files, packages: p } = staticImports(f);
      todo.push(...files);
      for (const x of p) packages.add(x);
    }
    expect(seen.has(join(root, 'cli/commands/train.ts'))).toBe(true); // the walk follows static imports
    expect(seen.has(join(root, 'cli/progress.ts'))).toBe(true);
    expect([...seen].filter((f) => f.includes('/cli/tui/'))).toEqual([]);
    expect([...packages].filter((p) => /^(ink|react)(\/|$)/.test(p) || p.startsWith('ink-'))).toEqual([]);
    // and the tui command does import it lazily
    expect(readFileSync(join(root, 'cli/commands/tui.ts'), 'utf8')).toContain("await import('../tui/index.js')");
  });
});
