import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { fit, useTheme } from '../theme.js';

export interface KeyHint {
  key: string;
  label: string;
}

/** The screen: a title line, the body (fixed height so the whole fits 80×24), a key line. */
export function Frame({ title, keys, children, width = 80, bodyHeight = 21 }: { title: string; keys: KeyHint[]; children: ReactNode; width?: number; bodyHeight?: number }) {
  const theme = useTheme();
  return (
    <Box flexDirection="column" width={width}>
      <Text bold color={theme.accent}>
        {fit(`Focal · ${title}`, width)}
      </Text>
      <Box flexDirection="column" height={bodyHeight} overflow="hidden">
        {children}
      </Box>
      <KeyLine keys={keys} width={width} />
    </Box>
  );
}

export function KeyLine({ keys, width = 80 }: { keys: KeyHint[]; width?: number }) {
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
