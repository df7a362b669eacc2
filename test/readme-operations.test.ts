import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  builtinOperationsSection, builtinPluginInfos, currentSection, END_MARKER, renderOperationsSection, replaceSection, START_MARKER,
} from '../scripts/readme-operations.js';
import { builtinPlugins } from '../plugins/index.js';
import { ROOT } from './helpers.js';

const STALE = 'README.md\'s list of built-in operations differs from the plugin registry: run `npm run docs:operations` (then review and commit README.md)';

describe('README.md lists the built-in operations', () => {
  it('holds exactly the section rendered from the plugin registry', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    let held: string;
    try {
      held = currentSection(readme);
    } catch (err) {
      throw new Error(`${STALE}\n(${(err as Error).message})`);
    }
    expect(held, STALE).toBe(builtinOperationsSection(ROOT));
  });

  it('renders one line per plugin and one per operation, every built-in operation with its title', () => {
    const plugins = builtinPluginInfos();
    expect(plugins.map((p) => p.id).sort()).toEqual(builtinPlugins.map((p) => p.id).sort());
    const section = builtinOperationsSection(ROOT);
    const lines = section.split('\n');
    const opCount = builtinPlugins.reduce((n, p) => n + p.operations.length, 0);
    expect(opCount).toBeGreaterThan(30);
    expect(lines).toHaveLength(2 + plugins.length + opCount);
    expect(lines[0]).toBe(START_MARKER);
    expect(lines[lines.length - 1]).toBe(END_MARKER);
    for (const p of builtinPlugins) for (const op of p.operations) expect(lines).toContain(`  - \`${op.id}\`: ${op.title}`);
    expect(lines).toContain(`- **stack**: ${builtinPlugins.find((p) => p.id === 'stack')!.description}`);
    expect(lines.find((l) => l.startsWith('- **optics**'))).toMatch(/^- \*\*optics\*\* \(\[docs\/optics\.md\]\(docs\/optics\.md\)\): /);
  });

  it('replaces only what lies between the markers, and escapes Markdown in titles', () => {
    const plugin = { id: 'x', version: '1.0.0', description: 'An\nexample', source: 'builtin' as const, loaded: true, operations: [{ id: 'x.a', title: 'a_b *c*', inputs: {}, outputs: {}, params: {} }] };
    const section = renderOperationsSection([plugin as never]);
    expect(section).toBe(`${START_MARKER}\n- **x**: An example\n  - \`x.a\`: a\\_b \\*c\\*\n${END_MARKER}`);
    const doc = `# T\n\nbefore\n<!-- operations:start -->\nold\n${END_MARKER}\nafter\n`;
    expect(replaceSection(doc, section)).toBe(`# T\n\nbefore\n${section}\nafter\n`);
    expect(() => replaceSection('# no markers\n', section)).toThrow(/markers/);
    expect(() => replaceSection(`${doc}${doc}`, section)).toThrow(/more than once/);
  });
});
