import { useCallback, useEffect, useReducer, useRef } from 'react';
import { initialRunState, runReducer, type RunState } from '../run-state.js';
import type { RunRequestTui, TuiServices } from '../services.js';

/** A pipeline run's state and its two actions (start, cancel); the state is `runReducer`'s. */
export function useRun(services: TuiServices): { run: RunState; start: (req: Omit<RunRequestTui, 'signal' | 'onEvent' | 'onLog'>) => void; cancel: () => void } {
  const [run, dispatch] = useReducer(runReducer, initialRunState);
  const controller = useRef<AbortController | undefined>(undefined);
  const start = useCallback(
    (req: Omit<RunRequestTui, 'signal' | 'onEvent' | 'onLog'>) => {
      controller.current?.abort();
      const c = new AbortController();
      controller.current = c;
      dispatch({ type: 'start', nodes: req.view.nodes.map((n) => ({ id: n.id, op: n.op })), at: Date.now() });
      services
        .run({ ...req, signal: c.signal, onEvent: (event) => dispatch({ type: 'event', event }), onLog: (line) => dispatch({ type: 'log', line }) })
        .then((summary) => dispatch({ type: 'finished', summary, at: Date.now() }))
        .catch((err: unknown) => dispatch({ type: 'failed', message: err instanceof Error ? err.message : String(err), cancelled: c.signal.aborted, at: Date.now() }));
    },
    [services],
  );
  const cancel = useCallback(() => controller.current?.abort(), []);
  // leaving the UI (quit, ctrl-c) cancels a run still going
  useEffect(() => () => controller.current?.abort(), []);
  return { run, start, cancel };
}
