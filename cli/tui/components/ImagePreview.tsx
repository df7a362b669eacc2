import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import { pngCellPreview, type CellPreview } from '../image-preview.js';

/**
 * The PNG preview of an image output drawn with half blocks ('▀', two pixels per cell);
 * shown only when colour is on (the caller falls back to the PNG path under NO_COLOR).
 */
export function ImagePreview({ file, maxCols, maxRows }: { file: string; maxCols: number; maxRows: number }) {
  const [state, setState] = useState<{ file: string; preview?: CellPreview; error?: string } | undefined>();
  useEffect(() => {
    let live = true;
    pngCellPreview(file, maxCols, maxRows)
      .then((p) => live && setState({ file, preview: p }))
      .catch((err: Error) => live && setState({ file, error: err.message }));
    return () => {
      live = false;
    };
  }, [file, maxCols, maxRows]);
  if (!state || state.file !== file) return <Text>loading preview…</Text>;
  if (state.error || !state.preview) return <Text>{`preview unavailable: ${state.error ?? 'no image'}`}</Text>;
  const p = state.preview;
  return (
    <Box flexDirection="column">
      {Array.from({ length: p.rows }, (_, r) => (
        <Text key={r}>
          {p.cells.slice(r * p.cols, (r + 1) * p.cols).map(([top, bottom], c) => (
            <Text key={c} color={top} backgroundColor={bottom}>
              ▀
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}
