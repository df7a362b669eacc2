import { resolve } from 'node:path';
import { pipelineJsonSchema, writeFileAtomic, z } from '../../core/index.js';
import { flag } from '../options.js';
import type { GlobalOptions } from '../main.js';
import { createHost } from '../host.js';

export const schemaOptions = z.object({
  out: flag(z.string().optional(), '--out <file>', 'write to a file instead of stdout'),
  core: flag(z.boolean().optional(), '--core', 'only the document shape, without per-op params'),
});

export async function schemaCommand(opts: z.output<typeof schemaOptions>, globals: GlobalOptions): Promise<void> {
  const schema = opts.core ? pipelineJsonSchema() : pipelineJsonSchema((await createHost(globals)).registry);
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (opts.out) {
    await writeFileAtomic(resolve(opts.out), text);
    process.stderr.write(`wrote ${opts.out}\n`);
  } else process.stdout.write(text);
}
