import { expect } from 'vitest';

/** What a report must list: every node (table row and graph vertex) and every output (graph vertex and file row). */
export function expectListsEverything(html: string, record: { nodes: Record<string, unknown>; outputs: { name: string; files: string[] }[] }): void {
  for (const id of Object.keys(record.nodes)) {
    expect(html, `node ${id}`).toContain(`<tr id="node-${id.replace(/[^A-Za-z0-9_-]/g, '_')}"><td>${id}</td>`);
    expect(html, `graph node ${id}`).toContain(`data-vertex="node:${id}"`);
  }
  for (const o of record.outputs) {
    expect(html, `graph output ${o.name}`).toContain(`data-vertex="output:${o.name}"`);
    for (const f of o.files) expect(html, `file ${f}`).toContain(`<a href="${encodeURI(f.split('/').pop()!)}">`);
  }
}
