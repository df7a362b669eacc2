import { Box, Text } from 'ink';
import { createContext, useContext } from 'react';
import type { TerminalSize } from './hooks/useTerminalSize.js';
import { fit } from './theme.js';

/** The smallest terminal the screens are laid out for. */
export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;

/**
 * The space a screen has: `width` columns and `height` rows, the terminal's size less one row.
 * Ink ends each frame with a newline, so a frame as tall as the terminal would scroll it by a
 * line and leave Ink erasing from the wrong place (stale lines); with one row to spare the cursor
 * rests on the last row and every redraw erases exactly the previous frame.
 */
export interface Layout {
  width: number;
  height: number;
}

export function layoutFor(size: TerminalSize): Layout {
  return { width: size.columns, height: Math.max(1, size.rows - 1) };
}

export function tooSmall(size: TerminalSize): boolean {
  return size.columns < MIN_COLUMNS || size.rows < MIN_ROWS;
}

export const LayoutContext = createContext<Layout>(layoutFor({ columns: MIN_COLUMNS, rows: MIN_ROWS }));

/** The screen's size and its body's (a frame is a title line, the body, a key line). */
export function useLayout(): Layout & { bodyHeight: number } {
  const l = useContext(LayoutContext);
  return { ...l, bodyHeight: Math.max(1, l.height - 2) };
}

/** Shown instead of the screens while the terminal is smaller than 80×24; the screens stay mounted and come back as they were. */
export function TooSmall({ size }: { size: TerminalSize }) {
  const lines = [
    `Focal needs a terminal of at least ${MIN_COLUMNS} × ${MIN_ROWS}`,
    `(columns × rows). This one is ${size.columns} × ${size.rows}.`,
    '',
    'Make the window larger: the UI comes back as it was.',
    'ctrl-c quits.',
  ].slice(0, Math.max(1, size.rows - 1));
  return (
    <Box flexDirection="column" width={size.columns}>
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate">
          {fit(l, size.columns)}
        </Text>
      ))}
    </Box>
  );
}
