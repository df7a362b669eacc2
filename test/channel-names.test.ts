/**
 * Channel names and OME-TIFF: every bundled pipeline run on its inputs with channel names
 * (written as OME-TIFF, which carries them) keeps the names on every output that keeps the
 * input's channels; outputs written as OME-TIFF (`tiff: 'ome'`, `focal run --ome-tiff`) carry the
 * names and the calibration in OME-XML, read back by Focal and by tifffile (python3-tifffile).
 */
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainer, MemoryLogger, PipelineRunner, PluginRegistry, readRunRecord, readTiff, writeTiff, type Stack } from '../core/index.js';
import { builtinPlugins } from '../plugins/index.js';
import { focal, ROOT, tempDir } from './helpers.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const registry = new PluginRegistry();
for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
const runner = createContainer({ catalog: registry, logger: new MemoryLogger() }).resolve(PipelineRunner);
const d = tempDir('focal-channel-names-');
afterAll(() => rmSync(d, { recursive: true, force: true }));

const pipelines = readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.json')).sort();
const NAMES = ['DAPI', 'GFP', 'mCherry', 'Cy5', 'c4', 'c5'];
/** Channel names an op gives its own output (not the input's channels). */
const OP_NAMED = new Set(['ux,uy']);

async function hasTifffile(): Promise<boolean> {
  return run(PYTHON, ['-c', 'import tifffile']).then(() => true, () => false);
}
const tifffile = await hasTifffile();
if (!tifffile && !process.env.CI) console.warn('channel-names: tifffile check skipped: needs /usr/bin/python3 with tifffile (Debian python3-tifffile)');

describe('channel names through the bundled pipelines, OME-TIFF out', () => {
  for (const name of pipelines) {
    it(`${name}: outputs that keep the input's channels keep their names; OME-TIFF outputs carry names and calibration`, async () => {
      const doc = JSON.parse(readFileSync(join(ROOT, 'pipelines', name), 'utf8')) as { inputs: Record<string, { type: string; default?: string }> };
      const inputs: Record<string, string> = {};
      const named: Stack[] = [];
      for (const [input, spec] of Object.entries(doc.inputs)) {
        if ((spec.type !== 'stack' && spec.type !== 'image') || !spec.default) continue;
        const stack = await readTiff(join(ROOT, 'pipelines', spec.default));
        if (stack.rgb) continue;
        stack.channelNames = NAMES.slice(0, stack.sizeC);
        const file = join(d, `${name}-${input}.ome.tif`);
        await writeTiff(file, stack, { ome: true });
        expect((await readTiff(file)).channelNames).toEqual(stack.channelNames);
        inputs[input] = file;
        named.push(stack);
      }
      if (named.length === 0) return;
      const outDir = join(d, name.replace(/\.json$/, ''));
      const summary = await runner.run({ pipelineFile: join(ROOT, 'pipelines', name), inputs, outDir, tiff: 'ome' });
      const channelsIn = named[0];
      const record = await readRunRecord(outDir);
      /** Whether a ref's value is made from a pipeline input (not generated, e.g. a model PSF). */
      const fromInput = (ref: string, seen = new Set<string>()): boolean => {
        const dot = ref.indexOf('.');
        if (dot < 0) return true;
        const node = ref.slice(0, dot);
        if (seen.has(node)) return false;
        seen.add(node);
        return Object.values(record.nodes[node]?.in ?? {}).some((r) => fromInput(r, seen));
      };
      for (const o of summary.outputs) {
        const tif = o.files.find((f) => f.endsWith('.ome.tif'));
        const ref = record.outputs.find((r) => r.name === o.name)?.ref;
        if (!tif || !ref || !fromInput(ref)) continue;
        const back = await readTiff(tif);
        if (back.rgb) continue;
        // an output with the input's channel count keeps their names (one channel: the only one),
        // unless the op names a derived quantity (a displacement field's ux, uy)
        if (back.sizeC !== channelsIn.sizeC || OP_NAMED.has(back.channelNames.join())) continue;
        expect(back.channelNames, `${o.name} of ${name}`).toEqual(channelsIn.channelNames);
      }
    }, 120_000);
  }

  it('focal run --ome-tiff writes <name>.ome.tif for image outputs', () => {
    const out = join(d, 'cli');
    const r = focal(['run', join(ROOT, 'pipelines', 'denoise-project.json'), '--out', out, '--ome-tiff', '--no-report', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['mip.ome.tif', 'nuclei.ome.tif', 'run.json']);
  });

  it.skipIf(!tifffile && !process.env.CI)('tifffile reads the OME-XML of an OME-TIFF output: axes, channel names, pixel size, z step', async () => {
    const stack = await readTiff(join(ROOT, 'samples', 'cells-zstack.tif'));
    stack.channelNames = ['DAPI', 'GFP & "tubulin"'];
    const file = join(d, 'cells.ome.tif');
    await writeTiff(file, stack, { ome: { name: 'cells' } });
    const script = [
      'import sys, json, tifffile, xml.etree.ElementTree as ET',
      't = tifffile.TiffFile(sys.argv[1]); s = t.series[0]',
      "ns = {'o': 'http://www.openmicroscopy.org/Schemas/OME/2016-06'}",
      "px = ET.fromstring(t.ome_metadata).find('.//o:Pixels', ns)",
      "print(json.dumps({'ome': t.is_ome, 'axes': s.axes, 'shape': list(s.shape), 'names': [c.get('Name') for c in px.findall('o:Channel', ns)],",
      "  'px': float(px.get('PhysicalSizeX')), 'pxUnit': px.get('PhysicalSizeXUnit'), 'z': float(px.get('PhysicalSizeZ')), 'pixel': float(s.asarray()[3, 1, 100, 120])}))",
    ].join('\n');
    const { stdout } = await run(PYTHON, ['-c', script, file]);
    const r = JSON.parse(stdout) as { ome: boolean; axes: string; shape: number[]; names: string[]; px: number; pxUnit: string; z: number; pixel: number };
    expect(r.ome).toBe(true);
    expect(r.axes).toBe('ZCYX');
    expect(r.shape).toEqual([stack.sizeZ, 2, stack.height, stack.width]);
    expect(r.names).toEqual(['DAPI', 'GFP & "tubulin"']);
    expect(r.pxUnit).toBe('µm');
    expect(r.px).toBe(0.325); // tidy: not 0.32499999999999996 (the TIFF rational read back)
    expect(r.z).toBeCloseTo(stack.calibration.zStepUm!, 9);
    // the planes in OME's XYCZT order: z = 3, c = 1, row 100, column 120
    expect(r.pixel).toBe(stack.planes[1 + 3 * stack.sizeC][100 * stack.width + 120]);
  });
});
