import { Box, Text } from 'ink';
import { useCursor } from '../hooks/useCursor.js';
import { useKeys } from '../hooks/useKeys.js';
import type { PipelineEntry } from '../services.js';
import { fit, useTheme, windowOf } from '../theme.js';
import { Frame, Row, type KeyHint } from './Frame.js';
import { useLayout } from '../layout.js';

const KEYS: KeyHint[] = [
  { key: '↑/↓', label: 'move' },
  { key: 'enter', label: 'open' },
  { key: 'w', label: 'watch' },
  { key: '?', label: 'help' },
  { key: 'q', label: 'quit' },
];

/** Screen 1: the bundled pipelines and those in the working folder. */
export function PipelineList({ entries, error, onOpen }: { entries: PipelineEntry[] | undefined; error?: string; onOpen: (e: PipelineEntry) => void }) {
  const theme = useTheme();
  const list = entries ?? [];
  const cursor = useCursor(list.length);
  const index = cursor.index;
  useKeys((_input, key) => {
    if (key.upArrow) cursor.move(-1);
    else if (key.downArrow) cursor.move(1);
    else if (key.return && list[cursor.current()]) onOpen(list[cursor.current()]);
  });
  const { width, bodyHeight } = useLayout();
  // the list, a spacer, the selected one's description (1 row) and an error (up to 2)
  const view = windowOf(list, index, Math.max(1, bodyHeight - 4));
  const selected = list[index];
  return (
    <Frame title="pipelines" keys={KEYS}>
      {entries === undefined ? <Text>loading…</Text> : null}
      {entries !== undefined && list.length === 0 ? <Text>no pipelines found (bundled pipelines/ or *.json here)</Text> : null}
      {view.items.map((e, i) => {
        const at = view.start + i;
        const tag = e.source === 'bundled' ? 'bundled' : 'here';
        return (
          <Row key={e.file} selected={at === index}>
            {fit(`${e.name.padEnd(28)} ${tag.padEnd(8)}`, width - 4)}
          </Row>
        );
      })}
      <Box flexGrow={1} />
      {selected ? (
        <Text color={theme.muted} wrap="truncate-end">
          {fit(selected.description || selected.file, width)}
        </Text>
      ) : null}
      {error ? <Text color={theme.error}>{fit(`✗ ${error}`, 2 * width - 2)}</Text> : null}
    </Frame>
  );
}
