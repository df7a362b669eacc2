import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { useLayout } from '../layout.js';
import { fit, useTheme } from '../theme.js';

export interface KeyHint {
  key: string;
  label: string;
}

/**
 * The screen: a title line, the body, a key line, as wide and tall as the layout (the terminal
 * less one row, see layout.tsx). The body is cut at its bottom when its content is taller, never
 * squeezed: Yoga shrinks the children of a fixed-height box that overflows, which draws rows on
 * top of each other (lines vanish, stray text stays), so the content does not shrink.
 */
export function Frame({ title, keys, children }: { title: string; keys: KeyHint[]; children: ReactNode }) {
  const theme = useTheme();
  const { width, height, bodyHeight } = useLayout();
  return (
    // `width` columns, but never wider than Ink's root (the terminal): when the terminal narrows, Ink
    // redraws at once with the new width before React has the new size, and a frame of the old
    // width would wrap and scroll the terminal; shrinking in a row of the root's width avoids that
    <Box width="100%">
      <Box flexDirection="column" width={width} flexShrink={1} height={height}>
        <Text bold color={theme.accent} wrap="truncate">
          {fit(`Focal · ${title}`, width)}
        </Text>
        <Box flexDirection="column" height={bodyHeight} flexShrink={0} overflow="hidden">
          <Box flexDirection="column" flexGrow={1} flexShrink={0}>
            {children}
          </Box>
        </Box>
        <KeyLine keys={keys} width={width} />
      </Box>
    </Box>
  );
}

export function KeyLine({ keys, width }: { keys: KeyHint[]; width: number }) {
  const theme = useTheme();
  const text = keys.map((k) => `${k.key} ${k.label}`).join('  ');
  return (
    <Text color={theme.muted} wrap="truncate">
      {fit(text, width)}
    </Text>
  );
}

export function ErrorLine({ text }: { text: string }) {
  const theme = useTheme();
  return (
    <Text color={theme.error} wrap="truncate">
      ✗ {text}
    </Text>
  );
}

/** One selectable row: a `›` marker (readable without colour) plus the accent colour. */
export function Row({ selected, children }: { selected: boolean; children: string }) {
  const theme = useTheme();
  return (
    <Text color={selected ? theme.accent : undefined} bold={selected} wrap="truncate">
      {selected ? '› ' : '  '}
      {children}
    </Text>
  );
}

/** `[█████░░░░░]` */
export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const n = Math.round(f * width);
  return `${'█'.repeat(n)}${'░'.repeat(width - n)}`;
}
