import type { GlobalOptions } from '../main.js';
import { createHost } from '../host.js';
import { printJsonLine } from '../output.js';

export async function validateCommand(pipelineFile: string, opts: { json?: boolean }, globals: GlobalOptions): Promise<void> {
  const host = await createHost(globals, { json: opts.json });
  // Throws FocalError('E_PIPELINE') listing every problem; main() prints them and exits 2.
  const { pipeline } = await host.loadPipeline(pipelineFile);
  if (opts.json) printJsonLine({ ok: true, file: pipelineFile, name: pipeline.name, nodes: Object.keys(pipeline.nodes).length });
  else process.stdout.write(`${pipelineFile}: ok (pipeline '${pipeline.name}', ${Object.keys(pipeline.nodes).length} nodes)\n`);
}
