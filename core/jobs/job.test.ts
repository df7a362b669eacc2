import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FocalError } from '../errors.js';
import { insideAllowed, isPermanentFailure, jobIdOf, makeJobSpec, parseJobSpec, runJob } from './job.js';

const dir = () => mkdtempSync(join(tmpdir(), 'focal-job-'));

describe('jobs (core/jobs)', () => {
  it('derives the id from content: same pipeline and input bytes and output → same id; any change → another', async () => {
    const d = dir();
    writeFileSync(join(d, 'p.json'), '{"a":1}');
    writeFileSync(join(d, 'x.tif'), 'abc');
    writeFileSync(join(d, 'y.tif'), 'abc');
    const a = await makeJobSpec(join(d, 'p.json'), { stack: join(d, 'x.tif') }, join(d, 'out', 'x'));
    const b = await makeJobSpec(join(d, 'p.json'), { stack: join(d, 'y.tif') }, join(d, 'out', 'x'));
    expect(jobIdOf(a)).toBe(jobIdOf(b)); // same bytes, same output: the same work
    expect(jobIdOf(a)).not.toBe(jobIdOf({ ...a, out: join(d, 'out', 'z') }));
    writeFileSync(join(d, 'y.tif'), 'abd');
    const c = await makeJobSpec(join(d, 'p.json'), { stack: join(d, 'y.tif') }, join(d, 'out', 'x'));
    expect(jobIdOf(c)).not.toBe(jobIdOf(a));
    expect(jobIdOf(a)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('parses a job, naming the field that is wrong or a path that is not absolute', async () => {
    const d = dir();
    writeFileSync(join(d, 'p.json'), '{}');
    const spec = await makeJobSpec(join(d, 'p.json'), {}, join(d, 'o'));
    expect(parseJobSpec(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    expect(() => parseJobSpec({ ...spec, pipelineSha256: 'xyz' }, 'job 7')).toThrow(/job 7: \/pipelineSha256/);
    expect(() => parseJobSpec({ ...spec, extra: 1 }, 'job 7')).toThrow(FocalError);
    expect(() => parseJobSpec({ ...spec, out: 'relative/out' }, 'job 7')).toThrow(/path 'relative\/out' is not absolute/);
  });

  it('checks real paths against the allowed folders, so a symlink cannot lead out', async () => {
    const d = dir();
    mkdirSync(join(d, 'data'));
    mkdirSync(join(d, 'secret'));
    writeFileSync(join(d, 'secret', 'k.tif'), 'k');
    symlinkSync(join(d, 'secret'), join(d, 'data', 'link'));
    expect(await insideAllowed(join(d, 'data', 'new', 'out'), [join(d, 'data')])).toBe(true);
    expect(await insideAllowed(join(d, 'data', 'link', 'k.tif'), [join(d, 'data')])).toBe(false);
    expect(await insideAllowed(join(d, 'data-other'), [join(d, 'data')])).toBe(false);
    expect(await insideAllowed('/anything', [])).toBe(true);
  });

  it('does not run a job whose output folder already holds another run, and refuses an input changed since submission', async () => {
    const d = dir();
    writeFileSync(join(d, 'p.json'), '{}');
    writeFileSync(join(d, 'x.tif'), 'abc');
    let runs = 0;
    const runner = async () => {
      runs++;
      throw new Error('not reached');
    };
    mkdirSync(join(d, 'taken'));
    const taken = await makeJobSpec(join(d, 'p.json'), { stack: join(d, 'x.tif') }, join(d, 'taken'));
    await expect(runJob(taken, { runner, writeFailureReport: false })).rejects.toThrow(/exists and was not written by this job; not overwritten/);
    const spec = await makeJobSpec(join(d, 'p.json'), { stack: join(d, 'x.tif') }, join(d, 'fresh'));
    writeFileSync(join(d, 'x.tif'), 'changed');
    await expect(runJob(spec, { runner, writeFailureReport: false })).rejects.toThrow(/changed since the job was submitted/);
    expect(runs).toBe(0);
  });

  it('retries runtime failures only', () => {
    expect(isPermanentFailure(new FocalError('E_FORMAT', 'bad'))).toBe(true);
    expect(isPermanentFailure(new FocalError('E_PIPELINE', 'bad'))).toBe(true);
    expect(isPermanentFailure(new FocalError('E_NODE_FAILED', 'oom'))).toBe(false);
    expect(isPermanentFailure(new Error('worker crashed'))).toBe(false);
    expect(isPermanentFailure(new FocalError('E_IO', 'busy', {}, { cause: Object.assign(new Error('x'), { code: 'EBUSY' }) }))).toBe(false);
  });
});
