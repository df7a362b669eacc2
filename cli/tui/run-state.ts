import type { RunEvent, RunSummary } from '../../core/index.js';

export type NodeRunState = 'waiting' | 'running' | 'done' | 'failed';

export interface NodeProgress {
  id: string;
  op: string;
  state: NodeRunState;
  fraction: number;
  label?: string;
  ms?: number;
  error?: string;
}

export interface RunState {
  status: 'idle' | 'running' | 'done' | 'failed' | 'cancelled';
  nodes: NodeProgress[];
  fraction: number;
  startedAt?: number;
  endedAt?: number;
  log: string[];
  summary?: RunSummary & { pipelineFile: string };
  error?: string;
}

export type RunAction =
  | { type: 'start'; nodes: { id: string; op: string }[]; at: number }
  | { type: 'event'; event: RunEvent }
  | { type: 'log'; line: string }
  | { type: 'finished'; summary: RunSummary & { pipelineFile: string }; at: number }
  | { type: 'failed'; message: string; cancelled: boolean; at: number };

export const LOG_LIMIT = 200;

export const initialRunState: RunState = { status: 'idle', nodes: [], fraction: 0, log: [] };

function updateNode(nodes: NodeProgress[], id: string, patch: Partial<NodeProgress>): NodeProgress[] {
  return nodes.map((n) => (n.id === id ? { ...n, ...patch } : n));
}

/** Pure reducer of a run's progress: the executor's RunEvents, log lines and the outcome. */
export function runReducer(state: RunState, action: RunAction): RunState {
  switch (action.type) {
    case 'start':
      return { status: 'running', nodes: action.nodes.map((n) => ({ ...n, state: 'waiting', fraction: 0 })), fraction: 0, startedAt: action.at, log: [] };
    case 'log':
      return { ...state, log: [...state.log, action.line].slice(-LOG_LIMIT) };
    case 'finished':
      return { ...state, status: 'done', fraction: 1, endedAt: action.at, summary: action.summary };
    case 'failed':
      return { ...state, status: action.cancelled ? 'cancelled' : 'failed', endedAt: action.at, error: action.message, log: [...state.log, `error: ${action.message}`].slice(-LOG_LIMIT) };
    case 'event': {
      const e = action.event;
      switch (e.type) {
        case 'node-start':
          return { ...state, nodes: updateNode(state.nodes, e.node, { state: 'running', fraction: 0 }), log: [...state.log, `start ${e.node} (${e.op})`].slice(-LOG_LIMIT) };
        case 'node-progress':
          return { ...state, nodes: updateNode(state.nodes, e.node, { state: 'running', fraction: e.fraction, label: e.label }) };
        case 'node-done':
          return { ...state, nodes: updateNode(state.nodes, e.node, { state: 'done', fraction: 1, ms: e.ms }), log: [...state.log, `done ${e.node} (${Math.round(e.ms)} ms)`].slice(-LOG_LIMIT) };
        case 'node-error':
          return { ...state, nodes: updateNode(state.nodes, e.node, { state: 'failed', error: e.message }), log: [...state.log, `error ${e.node}: ${e.code}: ${e.message}`].slice(-LOG_LIMIT) };
        case 'run-progress':
          return { ...state, fraction: e.fraction };
        default:
          return state;
      }
    }
    default:
      return state;
  }
}

/** Elapsed time as `12.3 s` or `2 m 05 s`. */
export function formatElapsed(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
}
