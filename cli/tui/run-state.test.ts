import { describe, expect, it } from 'vitest';
import { formatElapsed, initialRunState, LOG_LIMIT, runReducer } from './run-state.js';
import { initialWatchStatus, throughputPerMinute, watchReducer } from './watch-state.js';

describe('runReducer', () => {
  it('follows RunEvents to per-node progress and the outcome', () => {
    let s = runReducer(initialRunState, { type: 'start', nodes: [{ id: 'a', op: 'x.y' }, { id: 'b', op: 'x.z' }], at: 1000 });
    s = runReducer(s, { type: 'event', event: { type: 'node-start', node: 'a', op: 'x.y' } });
    s = runReducer(s, { type: 'event', event: { type: 'node-progress', node: 'a', op: 'x.y', fraction: 0.5, label: 'plane 3/6' } });
    expect(s.nodes[0]).toMatchObject({ state: 'running', fraction: 0.5, label: 'plane 3/6' });
    expect(s.nodes[1].state).toBe('waiting');
    s = runReducer(s, { type: 'event', event: { type: 'node-done', node: 'a', op: 'x.y', ms: 12 } });
    s = runReducer(s, { type: 'event', event: { type: 'node-error', node: 'b', op: 'x.z', code: 'E_PARAMS', message: 'bad' } });
    s = runReducer(s, { type: 'failed', message: 'b failed', cancelled: false, at: 3500 });
    expect(s.status).toBe('failed');
    expect(s.nodes.map((n) => n.state)).toEqual(['done', 'failed']);
    expect(s.log).toEqual(['start a (x.y)', 'done a (12 ms)', 'error b: E_PARAMS: bad', 'error: b failed']);
    expect(formatElapsed(s.endedAt! - s.startedAt!)).toBe('2.5 s');
    expect(formatElapsed(125_000)).toBe('2 m 05 s');
  });

  it('keeps the last LOG_LIMIT log lines', () => {
    let s = initialRunState;
    for (let i = 0; i < LOG_LIMIT + 5; i++) s = runReducer(s, { type: 'log', line: `l${i}` });
    expect(s.log.length).toBe(LOG_LIMIT);
    expect(s.log[0]).toBe('l5');
  });
});

describe('watchReducer', () => {
  it('counts jobs and computes throughput over the window', () => {
    let s = watchReducer(initialWatchStatus, { type: 'starting', folder: 'in', out: 'out', pipeline: 'p.json', at: 0 });
    for (let i = 0; i < 6; i++) {
      s = watchReducer(s, { type: 'event', event: { event: 'job-queued', ts: i, id: `${i}`, input: `f${i}`, kind: 'file', files: 1, output: `o${i}` } });
      s = watchReducer(s, { type: 'event', event: { event: 'job-started', ts: i, id: `${i}`, input: `f${i}` } });
      s = watchReducer(s, { type: 'event', event: { event: 'job-done', ts: 10_000 * (i + 1), id: `${i}`, input: `f${i}`, output: `o${i}`, ms: 1, outputs: [] } });
    }
    expect(s).toMatchObject({ queued: 0, running: [], done: 6, failed: 0 });
    // 6 files in the first minute → 6 files/min
    expect(throughputPerMinute(s, 60_000)).toBeCloseTo(6);
    // window of 5 min ending at 10 min: none done in it
    expect(throughputPerMinute(s, 600_000)).toBe(0);
  });
});
