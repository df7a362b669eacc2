/**
 * Issue 25, "Never overwrite, never lose": real `focal run` / `focal validate` processes.
 *
 * - an output that would land on an input file or on the pipeline file is refused before
 *   anything runs (same path, and the same file through a hard link);
 * - the output name `run` is reserved (run.json is the provenance record);
 * - `--out /proc/…` is refused at once (it used to spin at 100 % CPU forever);
 * - a key given twice in a pipeline file is an error with its line and column;
 * - a run killed with SIGKILL at several moments, into a folder holding an earlier run's outputs,
 *   leaves either the complete old set with the old run.json or the complete new set with a new
 *   run.json, never a mix; the next run removes the staging folder and temp files it left.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, writeTiff } from '../core/index.js';
import { BIN, focal, ROOT, sha256, tempDir } from './helpers.js';

const dirs: string[] = [];
function dir(): string {
  const d = tempDir('focal-data-safety-');
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The entries of `folder` whose names start with a dot (staging folders, temp files, probes). */
function hidden(folder: string): string[] {
  return readdirSync(folder).filter((n) => n.startsWith('.'));
}

describe('focal run never writes over what it reads', () => {
  const convert = {
    name: 'conv',
    inputs: { stack: { type: 'stack' } },
    nodes: { conv: { op: 'stack.convert', in: { stack: 'stack' }, params: { dtype: 'float32' } } },
    outputs: { img: 'conv.stack' },
  };

  it('refuses an output named like the input file in --out, before running (the input was replaced by float32 data)', () => {
    const d = dir();
    mkdirSync(join(d, 'io'));
    const input = join(d, 'io', 'img.tif');
    copyFileSync(join(ROOT, 'samples', 'cells-zstack.tif'), input);
    const before = sha256(input);
    writeFileSync(join(d, 'conv.json'), JSON.stringify(convert));
    const r = focal(['run', 'conv.json', '--input', 'stack=io/img.tif', '--out', 'io'], { cwd: d });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`output 'img' would be written to ${input}, which is input 'stack' (${input})`);
    expect(sha256(input)).toBe(before);
    expect(readdirSync(join(d, 'io'))).toEqual(['img.tif']); // nothing else written, no staging folder
    expect(r.stdout).not.toContain('done');
  });

  it('refuses an output that is a hard link to the input, and one that is the pipeline file (a table\'s .json)', () => {
    const d = dir();
    mkdirSync(join(d, 'data'));
    mkdirSync(join(d, 'io'));
    const input = join(d, 'data', 'in.tif');
    copyFileSync(join(ROOT, 'samples', 'cells-zstack.tif'), input);
    linkSync(input, join(d, 'io', 'img.tif'));
    const before = sha256(input);
    writeFileSync(join(d, 'conv.json'), JSON.stringify(convert));
    const linked = focal(['run', 'conv.json', '--input', `stack=${input}`, '--out', 'io', '--json'], { cwd: d });
    expect(linked.code, linked.stderr).toBe(2);
    expect(JSON.parse(linked.stdout.trim().split('\n').at(-1)!)).toMatchObject({ event: 'error', code: 'E_USAGE', details: { file: join(d, 'io', 'img.tif'), field: '/outputs/img', input } });
    expect(sha256(input)).toBe(before);

    const pipelineFile = join(d, 'io', 'stats.json');
    const pipelineText = JSON.stringify({ name: 'copy-table', inputs: { stats: { type: 'table' } }, outputs: { stats: 'stats' } });
    writeFileSync(pipelineFile, pipelineText);
    writeFileSync(join(d, 'data', 't.csv'), 'a,b\n1,2\n');
    const r = focal(['run', 'io/stats.json', '--input', 'stats=data/t.csv', '--out', 'io'], { cwd: d });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`output 'stats' would be written to ${pipelineFile}, which is the pipeline file`);
    expect(readFileSync(pipelineFile, 'utf8')).toBe(pipelineText);
    expect(existsSync(join(d, 'io', 'stats.csv'))).toBe(false);
  });

  it('reserves the output name run for the provenance record, in focal validate and focal run', () => {
    const d = dir();
    writeFileSync(join(d, 'p.json'), JSON.stringify({ name: 'r', inputs: { stack: { type: 'stack' } }, outputs: { run: 'stack' } }));
    const v = focal(['validate', 'p.json'], { cwd: d });
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/\/outputs\/run: output name 'run' is reserved: the run's provenance record is written as run\.json/);
    const r = focal(['run', 'p.json', '--input', `stack=${join(ROOT, 'samples', 'cells-zstack.tif')}`, '--out', join(d, 'out')], { cwd: d });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/outputs\/run: output name 'run' is reserved/);
    expect(existsSync(join(d, 'out'))).toBe(false);
  });

  it('rejects a key given twice in the pipeline file with its line and column, in focal validate and focal run', () => {
    const d = dir();
    const text = '{\n  "name": "dup",\n  "inputs": { "stack": { "type": "stack" } },\n  "outputs": { "a": "stack" },\n  "outputs": { "b": "stack" }\n}\n';
    writeFileSync(join(d, 'dup.json'), text);
    for (const args of [['validate', 'dup.json'], ['run', 'dup.json', '--input', `stack=${join(ROOT, 'samples', 'cells-zstack.tif')}`, '--out', 'out']]) {
      const r = focal(args, { cwd: d });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("dup.json: duplicate key 'outputs' at /outputs (line 5, column 3); the earlier one is at line 4");
    }
    expect(existsSync(join(d, 'out'))).toBe(false);
  });
});

describe('focal run checks the output folder', () => {
  it.each(['/proc/focal-xyz', '/sys/focal-xyz'])('refuses --out %s at once with a clear error (it used to spin at full CPU forever)', (out) => {
    const r = focal(['run', 'pipelines/denoise-project.json', '--out', out], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`output folder ${out} is not writable: it is under /(proc|sys), a kernel file system, not storage`));
    expect(existsSync(out)).toBe(false);
  });

  it.each(['/proc/focal-xyz', '/sys/focal-xyz'])('focal watch refuses --out %s before it starts watching', (out) => {
    const d = tempDir();
    const r = focal(['watch', d, '--pipeline', 'pipelines/denoise-project.json', '--out', out, '--once'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`output folder ${out} is not writable: it is under /(proc|sys), a kernel file system, not storage`));
    expect(r.stderr).not.toMatch(/TypeError|internal error/);
  });
});

describe('focal run killed with SIGKILL into a folder holding an earlier run', () => {
  // report_files/: the report's zoomable views of the 1024² outputs (Deep Zoom tiles, OpenSeadragon)
  const OUTPUT_FILES = ['mip.tif', 'raw1.tif', 'raw2.tif', 'raw3.tif', 'report.html', 'report_files', 'run.json', 'smooth.tif'];
  let d: string;
  let out: string;
  let pipeline: string;
  const inputs = { old: '', new: '' };
  /** Input sha256 → output file → sha256, from complete runs. */
  const reference = new Map<string, Map<string, string>>();

  /** A 1024² × 16 uint16 stack (32 MiB) that differs with the seed. */
  async function stack(file: string, seed: number): Promise<string> {
    const w = 1024;
    const planes = Array.from({ length: 16 }, (_, k) => {
      const p = new Uint16Array(w * w);
      for (let i = 0; i < p.length; i++) p[i] = (Math.imul(i, 2654435761) + k * 97 + seed * 131) & 0xfff;
      return p;
    });
    await writeTiff(file, createStack({ width: w, height: w, sizeZ: 16, dtype: 'uint16', planes }));
    return file;
  }

  function hashes(folder: string): Map<string, string> {
    // run.json and report.html hold the date; the report is checked against the input's checksum instead (report_files/ goes with it)
    return new Map(readdirSync(folder).filter((n) => !n.startsWith('.') && n !== 'run.json' && n !== 'report.html' && n !== 'report_files').map((n) => [n, sha256(join(folder, n))]));
  }

  function completeRun(input: string, folder: string): void {
    const r = focal(['run', pipeline, '--input', `stack=${input}`, '--out', folder, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
  }

  /** The folder holds one run's complete outputs and that run's run.json: returns which input it ran on. */
  function expectOneCompleteRun(folder: string): 'old' | 'new' {
    const visible = readdirSync(folder).filter((n) => !n.startsWith('.')).sort();
    expect(visible, 'a run.json beside exactly the outputs it lists').toEqual(OUTPUT_FILES);
    const record = JSON.parse(readFileSync(join(folder, 'run.json'), 'utf8')) as { inputs: { stack: { sha256: string } } };
    const which = record.inputs.stack.sha256 === sha256(inputs.old) ? 'old' : 'new';
    expect(record.inputs.stack.sha256).toBe(sha256(inputs[which]));
    expect(readFileSync(join(folder, 'report.html'), 'utf8'), `the report is of the ${which} run`).toContain(`<code>${sha256(inputs[which])}</code>`);
    expect(Object.fromEntries(hashes(folder)), `every output is from the ${which} run`).toEqual(Object.fromEntries(reference.get(sha256(inputs[which]))!));
    return which;
  }

  /** Completed (not temporary) files written since `since`, in the folder or a hidden subfolder; and whether a temp file exists. */
  function writesSince(folder: string, since: number): { done: number; temp: boolean } {
    let done = 0;
    let temp = false;
    const visit = (f: string, depth: number) => {
      let names: string[];
      try {
        names = readdirSync(f);
      } catch {
        return;
      }
      for (const n of names) {
        const p = join(f, n);
        try {
          const s = statSync(p);
          if (s.isDirectory()) {
            if (depth === 0 && n.startsWith('.')) visit(p, 1);
          } else if (n.includes('.focal-tmp-')) temp = true;
          else if (s.mtimeMs >= since && n.endsWith('.tif')) done++;
        } catch {
          /* renamed or removed meanwhile */
        }
      }
    };
    visit(folder, 0);
    return { done, temp };
  }

  /** Starts `focal run` on the new input and SIGKILLs it when `moment` says so. */
  function killedRun(moment: (event: Record<string, unknown> | undefined, since: number) => boolean): Promise<{ signal: NodeJS.Signals | null; stdout: string; pid: number }> {
    return new Promise((resolveRun, reject) => {
      const since = Date.now() - 1000; // mtime granularity: any output the old run wrote is older than the kill run's own
      const child = spawn(process.execPath, [BIN, 'run', pipeline, '--input', `stack=${inputs.new}`, '--out', out, '--json'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
      let stdout = '';
      let killed = false;
      const kill = () => {
        if (killed) return;
        killed = true;
        clearInterval(poll);
        child.kill('SIGKILL');
      };
      child.stdout.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        stdout += text;
        for (const line of text.split('\n')) {
          if (!line.trim()) continue;
          try {
            if (moment(JSON.parse(line) as Record<string, unknown>, since)) kill();
          } catch {
            /* not a JSON line */
          }
        }
      });
      const poll = setInterval(() => {
        if (moment(undefined, since)) kill();
      }, 2);
      child.on('error', reject);
      child.on('exit', (_code, signal) => {
        clearInterval(poll);
        resolveRun({ signal, stdout, pid: child.pid! });
      });
    });
  }

  beforeAll(async () => {
    d = tempDir('focal-kill9-');
    dirs.push(d);
    out = join(d, 'out');
    inputs.old = await stack(join(d, 'old.tif'), 1);
    inputs.new = await stack(join(d, 'new.tif'), 2);
    pipeline = join(d, 'big.json');
    writeFileSync(pipeline, JSON.stringify({
      name: 'big',
      inputs: { stack: { type: 'stack' } },
      nodes: {
        denoise: { op: 'filter.gaussian', in: { stack: 'stack' }, params: { sigmaPx: 1 } },
        mip: { op: 'stack.project', in: { stack: 'denoise.stack' }, params: { axis: 'z', method: 'max' } },
      },
      outputs: { raw1: 'stack', raw2: 'stack', raw3: 'stack', smooth: 'denoise.stack', mip: 'mip.stack' },
    }));
    completeRun(inputs.new, join(d, 'reference-new'));
    reference.set(sha256(inputs.new), hashes(join(d, 'reference-new')));
    completeRun(inputs.old, out); // the earlier run whose outputs must not be mixed with new ones
    reference.set(sha256(inputs.old), hashes(out));
  }, 120_000);

  const moments: [string, (event: Record<string, unknown> | undefined, since: number) => boolean][] = [
    ['after the first node-done event', (e) => e?.event === 'node-done'],
    ['when the first output file is being written', (e, since) => e === undefined && writesSince(out, since).temp],
    ['after two outputs were written', (e, since) => e === undefined && writesSince(out, since).done >= 2],
    ['after four outputs were written', (e, since) => e === undefined && writesSince(out, since).done >= 4],
  ];

  it('leaves the complete old set or the complete new set at every moment, and the next run removes the leftovers', async () => {
    let leftovers = 0;
    for (const [name, moment] of moments) {
      const r = await killedRun(moment);
      expect(r.signal, `killed ${name}, not finished first`).toBe('SIGKILL');
      expect(r.stdout).not.toContain('"event":"result"');
      expect(expectOneCompleteRun(out), `killed ${name}`).toBe('old');
      leftovers += hidden(out).length;
    }
    // The killed runs left their staging folders (with temp files inside): hidden, and dead.
    expect(leftovers).toBeGreaterThan(0);
    expect(hidden(out).every((n) => /^\.focal-(staging|probe)-\d+-[0-9a-f]+$|\.focal-tmp-\d+-[0-9a-f]+$/.test(n)), hidden(out).join(', ')).toBe(true);

    completeRun(inputs.new, out);
    expect(expectOneCompleteRun(out)).toBe('new');
    expect(hidden(out)).toEqual([]);
  }, 240_000);
});
