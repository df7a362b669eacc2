import { useCallback, useReducer } from 'react';
import { initialWatchStatus, watchReducer, type WatchController, type WatchStatus } from '../watch-state.js';

/** The watch dashboard's state (from the engine's events) and its actions. */
export function useWatch(controller: WatchController | undefined): {
  status: WatchStatus;
  start: (cfg: { folder: string; pipelineFile: string; outDir: string }) => Promise<void>;
  stop: () => Promise<void>;
} {
  const [status, dispatch] = useReducer(watchReducer, initialWatchStatus);
  const start = useCallback(
    async (cfg: { folder: string; pipelineFile: string; outDir: string }) => {
      if (!controller) {
        dispatch({ type: 'error', message: 'the watch engine is not available in this build', at: Date.now() });
        return;
      }
      dispatch({ type: 'starting', folder: cfg.folder, out: cfg.outDir, pipeline: cfg.pipelineFile, at: Date.now() });
      try {
        await controller.start({ ...cfg, onEvent: (event) => dispatch({ type: 'event', event }) });
      } catch (err) {
        dispatch({ type: 'error', message: err instanceof Error ? err.message : String(err), at: Date.now() });
        dispatch({ type: 'stopped' });
      }
    },
    [controller],
  );
  const stop = useCallback(async () => {
    if (!controller) return;
    dispatch({ type: 'stopping' });
    try {
      await controller.stop();
    } finally {
      dispatch({ type: 'stopped' });
    }
  }, [controller]);
  return { status, start, stop };
}
