import { resolve } from 'node:path';
import { pipelineJsonSchema, writeFileAtomic } from '../../core/index.js';
import type { GlobalOptions, SchemaOptions } from '../command-options.js';
import { createHost } from '../host.js';

export async function schemaCommand(opts: SchemaOptions, globals: GlobalOptions): Promise<void> {
  const schema = opts.core ? pipelineJsonSchema() : pipelineJsonSchema((await createHost(globals)).registry);
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (opts.out) {
    await writeFileAtomic(resolve(opts.out), text);
    process.stderr.write(`wrote ${opts.out}\n`);
  } else process.stdout.write(text);
}
