import { Box, Text } from 'ink';
import { useKeys } from '../hooks/useKeys.js';
import { useNow } from '../hooks/useNow.js';
import { formatElapsed, type NodeProgress, type RunState } from '../run-state.js';
import { fit, useTheme, windowOf } from '../theme.js';
import { bar, Frame, type KeyHint } from './Frame.js';
import { useLayout } from '../layout.js';

export function NodeBar({ node, width }: { node: NodeProgress; width: number }) {
  const theme = useTheme();
  const color = node.state === 'done' ? theme.ok : node.state === 'failed' ? theme.error : node.state === 'running' ? theme.accent : theme.muted;
  const pct = `${String(Math.round(node.fraction * 100)).padStart(3)}%`;
  const tail = node.state === 'done' ? `${Math.round(node.ms ?? 0)} ms` : node.state === 'failed' ? 'failed' : node.state === 'waiting' ? 'waiting' : (node.label ?? '');
  return (
    <Text wrap="truncate">
      {fit(`${node.id.padEnd(14)} ${node.op.padEnd(18)} `, 34)}
      <Text color={color}>{bar(node.fraction, 20)}</Text>
      {fit(` ${pct} ${tail}`, width - 54)}
    </Text>
  );
}

/** Screen 4: a run in progress: a bar per node, elapsed time, the log; at the end, the outcome. */
export function RunView({ name, run, onCancel, onResults, onBack }: { name: string; run: RunState; onCancel: () => void; onResults: () => void; onBack: () => void }) {
  const theme = useTheme();
  const now = useNow(run.status === 'running');
  const end = run.endedAt ?? now;
  const elapsed = run.startedAt ? formatElapsed(end - run.startedAt) : '-';
  const finished = run.status !== 'running' && run.status !== 'idle';
  useKeys((input, key) => {
    if (run.status === 'running' && (input === 'c' || key.escape)) onCancel();
    else if (run.status === 'done' && key.return) onResults();
    else if (finished && (key.escape || key.backspace || key.delete)) onBack();
  });
  const keys: KeyHint[] = run.status === 'running' ? [{ key: 'c/esc', label: 'cancel' }] : run.status === 'done' ? [{ key: 'enter', label: 'results' }, { key: 'esc', label: 'back' }, { key: 'q', label: 'quit' }] : [{ key: 'esc', label: 'back' }, { key: 'q', label: 'quit' }];
  const done = run.nodes.filter((n) => n.state === 'done').length;
  const { width, bodyHeight } = useLayout();
  // the status line, a blank line, the node bars, 'log', the log lines, the outcome line
  const nodes = windowOf(run.nodes, Math.max(0, run.nodes.findIndex((n) => n.state === 'running')), Math.max(3, bodyHeight - 13));
  const logLines = run.log.slice(-Math.max(1, bodyHeight - 4 - nodes.items.length - (finished ? 1 : 0)));
  const statusText =
    run.status === 'done'
      ? `done in ${elapsed}`
      : run.status === 'failed'
        ? `failed after ${elapsed}`
        : run.status === 'cancelled'
          ? `cancelled after ${elapsed}`
          : `running · ${elapsed}`;
  const statusColor = run.status === 'done' ? theme.ok : run.status === 'running' ? theme.accent : theme.error;
  return (
    <Frame title={`run ${name}`} keys={keys}>
      <Text wrap="truncate">
        <Text bold color={statusColor}>
          {statusText}
        </Text>
        {`  ${done}/${run.nodes.length} nodes  `}
        {bar(run.fraction, 20)}
        {` ${Math.round(run.fraction * 100)}%`}
      </Text>
      <Box flexDirection="column" marginTop={1}>
        {nodes.items.map((n) => (
          <NodeBar key={n.id} node={n} width={width} />
        ))}
      </Box>
      <Text bold>log</Text>
      {logLines.map((l, i) => (
        <Text key={i} color={l.startsWith('error') ? theme.error : l.startsWith('warn') ? theme.warn : undefined} wrap="truncate">
          {fit(l, width)}
        </Text>
      ))}
      <Box flexGrow={1} />
      {run.status === 'done' && run.summary ? <Text color={theme.ok}>{fit(`${run.summary.outputs.length} outputs written · enter: results`, width)}</Text> : null}
      {run.status === 'failed' && run.error ? <Text color={theme.error} wrap="truncate">{fit(`✗ ${run.error}`, width)}</Text> : null}
    </Frame>
  );
}
