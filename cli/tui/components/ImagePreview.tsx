import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import { pngCellPreview, type CellPreview } from '../image-preview.js';

/** Runs of equal cells in one preview row: one styled Text each instead of one per cell. */
export function cellRuns(cells: readonly [string, string][]): { top: string; bottom: string; n: number }[] {
  const runs: { top: string; bottom: string; n: number }[] = [];
  for (const [top, bottom] of cells) {
    const last = runs[runs.length - 1];
    if (last && last.top === top && last.bottom === bottom) last.n++;
    else runs.push({ top, bottom, n: 1 });
  }
  return runs;
}

/**
 * The PNG preview of an image output drawn with half blocks ('▀', two pixels per cell), as large
 * as fits `maxCols` × `maxRows` cells and never larger (a picture computed for another size, e.g.
 * before a resize, is not shown); shown only when colour is on (the caller falls back to the PNG
 * path under NO_COLOR).
 */
export function ImagePreview({ file, maxCols, maxRows }: { file: string; maxCols: number; maxRows: number }) {
  const key = `${maxCols}×${maxRows}:${file}`;
  const [state, setState] = useState<{ key: string; preview?: CellPreview; error?: string } | undefined>();
  useEffect(() => {
    let live = true;
    pngCellPreview(file, maxCols, maxRows)
      .then((p) => live && setState({ key, preview: p }))
      .catch((err: Error) => live && setState({ key, error: err.message }));
    return () => {
      live = false;
    };
  }, [file, maxCols, maxRows, key]);
  if (!state || state.key !== key) return <Text wrap="truncate">loading preview…</Text>;
  if (state.error || !state.preview) return <Text wrap="truncate">{`preview unavailable: ${state.error ?? 'no image'}`}</Text>;
  const p = state.preview;
  return (
    <Box flexDirection="column">
      {Array.from({ length: p.rows }, (_, r) => (
        <Text key={r} wrap="truncate">
          {cellRuns(p.cells.slice(r * p.cols, (r + 1) * p.cols)).map((run, c) => (
            <Text key={c} color={run.top} backgroundColor={run.bottom}>
              {'▀'.repeat(run.n)}
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}
