import { Box, Text } from 'ink';
import { useCursor } from '../hooks/useCursor.js';
import { useKeys } from '../hooks/useKeys.js';
import { formatValue, type PipelineView } from '../services.js';
import { fit, fitLeft, useTheme, windowOf } from '../theme.js';
import { Frame, Row, type KeyHint } from './Frame.js';
import { useLayout } from '../layout.js';

const KEYS: KeyHint[] = [
  { key: '↑/↓', label: 'move' },
  { key: 'enter', label: 'edit/pick' },
  { key: 'o', label: 'out dir' },
  { key: 'r', label: 'run' },
  { key: 'w', label: 'watch' },
  { key: 'esc', label: 'back' },
  { key: '?', label: 'help' },
];

/** Selectable rows of the graph: the pipeline inputs, then the nodes. */
export type GraphRow = { kind: 'input'; name: string } | { kind: 'node'; id: string };

export interface PipelineGraphProps {
  view: PipelineView;
  /** Input name → file chosen (or the default). */
  inputFiles: Record<string, string | undefined>;
  /** Node id → params as edited. */
  params: Record<string, Record<string, unknown>>;
  /** Node ids whose params do not validate. */
  invalid: string[];
  outDir: string;
  message?: string;
  cwd: string;
  onEditNode: (id: string) => void;
  onPickInput: (name: string) => void;
  onRun: () => void;
  onOutDir: () => void;
  onBack: () => void;
}

/** Screen 2: a pipeline as its graph: inputs, nodes (op, in ← refs, params), outputs. */
export function PipelineGraph(props: PipelineGraphProps) {
  const { view, inputFiles, params, invalid, outDir, message, cwd } = props;
  const theme = useTheme();
  const rows: GraphRow[] = [...view.inputs.map((i) => ({ kind: 'input' as const, name: i.name })), ...view.nodes.map((n) => ({ kind: 'node' as const, id: n.id }))];
  const cursor = useCursor(rows.length, view.inputs.length > 0 ? view.inputs.length : 0);
  const index = cursor.index;
  useKeys((input, key) => {
    if (key.upArrow) cursor.move(-1);
    else if (key.downArrow) cursor.move(1);
    else if (key.return) {
      const row = rows[cursor.current()];
      if (row?.kind === 'input') props.onPickInput(row.name);
      else if (row?.kind === 'node') props.onEditNode(row.id);
    } else if (input === 'r') props.onRun();
    else if (input === 'o') props.onOutDir();
    else if (key.escape || key.backspace || key.delete) props.onBack();
  });
  const { width, bodyHeight } = useLayout();
  const rel = (f: string | undefined) => (f ? fitLeft(f.startsWith(cwd + '/') ? f.slice(cwd.length + 1) : f, Math.max(44, width - 36)) : '(pick a file)');
  // the description, 'graph', the rows, outputs, out dir, the 8-row node box and a message line
  const nodeRows = windowOf(rows, index, Math.max(1, bodyHeight - 13));
  const current = rows[index];
  const node = current?.kind === 'node' ? view.nodes.find((n) => n.id === current.id) : undefined;
  return (
    <Frame title={`pipeline ${view.name}`} keys={KEYS}>
      <Text color={theme.muted} wrap="truncate">
        {fit(view.description || view.file, width)}
      </Text>
      <Text bold>graph (input ← source)</Text>
      {nodeRows.items.map((row, i) => {
        const at = nodeRows.start + i;
        if (row.kind === 'input') {
          const spec = view.inputs.find((x) => x.name === row.name)!;
          return (
            <Row key={`in:${row.name}`} selected={at === index}>
              {fit(`input ${row.name} (${spec.type}) ← ${rel(inputFiles[row.name])}`, width - 4)}
            </Row>
          );
        }
        const n = view.nodes.find((x) => x.id === row.id)!;
        const ins = n.inputs.map((p) => `${p.port} ← ${p.ref}`).join(', ');
        const bad = invalid.includes(n.id) ? ' ✗' : '';
        return (
          <Row key={`node:${n.id}`} selected={at === index}>
            {fit(`${n.id.padEnd(12)} ${n.op.padEnd(18)} ${ins}${bad}`, width - 4)}
          </Row>
        );
      })}
      <Text wrap="truncate">{fit(`outputs: ${view.outputs.map((o) => `${o.name} ← ${o.ref}`).join(', ')}`, width)}</Text>
      <Text wrap="truncate">{fit(`out dir: ${outDir}`, width)}</Text>
      <Box flexDirection="column" borderStyle="single" borderColor={theme.muted} paddingX={1} height={8} flexShrink={0} overflow="hidden">
        {node ? (
          <>
            <Text bold wrap="truncate">
              {fit(`${node.id}: ${node.op} · ${node.title} → ${node.outputs.join(', ') || '-'}`, width - 6)}
            </Text>
            {node.fields.length === 0 ? <Text color={theme.muted}>no parameters</Text> : null}
            {node.fields.slice(0, 5).map((f) => (
              <Text key={f.name} wrap="truncate">
                {fit(`${f.name} = ${formatValue(params[node.id]?.[f.name])}${f.explicit ? '' : ' (default)'}`, width - 6)}
              </Text>
            ))}
            {node.fields.length > 5 ? <Text color={theme.muted}>… {node.fields.length - 5} more (enter)</Text> : null}
          </>
        ) : current?.kind === 'input' ? (
          <Text wrap="wrap">{fit(`${view.inputs.find((x) => x.name === current.name)?.description ?? ''} · enter picks a file`, 3 * (width - 6))}</Text>
        ) : null}
      </Box>
      {message ? <Text color={theme.error} wrap="truncate">{fit(message, width)}</Text> : null}
    </Frame>
  );
}
