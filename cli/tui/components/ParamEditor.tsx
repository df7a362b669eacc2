import { Box, Text } from 'ink';
import { useCursor } from '../hooks/useCursor.js';
import { useKeys } from '../hooks/useKeys.js';
import { useState } from 'react';
import { formatValue, parseFieldText, type NodeView } from '../services.js';
import { fit, useTheme, windowOf } from '../theme.js';
import { Frame, Row, type KeyHint } from './Frame.js';
import { TextPrompt } from './TextPrompt.js';
import { useLayout } from '../layout.js';

const KEYS: KeyHint[] = [
  { key: '↑/↓', label: 'move' },
  { key: 'enter', label: 'edit' },
  { key: 'd', label: 'default' },
  { key: 'esc', label: 'back' },
  { key: '?', label: 'help' },
];
const EDIT_KEYS: KeyHint[] = [
  { key: 'enter', label: 'apply' },
  { key: 'esc', label: 'cancel' },
];

export interface ParamEditorProps {
  node: NodeView;
  values: Record<string, unknown>;
  /** zod's message per field ('' = the params object). */
  errors: Record<string, string>;
  onChange: (name: string, value: unknown) => void;
  onReset: (name: string) => void;
  onEditing: (editing: boolean) => void;
  onBack: () => void;
}

/** Screen 3: a node's parameters; each value is checked with the op's zod schema and its message shown under the field. */
export function ParamEditor({ node, values, errors, onChange, onReset, onEditing, onBack }: ParamEditorProps) {
  const theme = useTheme();
  const cursor = useCursor(node.fields.length);
  const index = cursor.index;
  const [editing, setEditing] = useState(false);
  const fields = node.fields;
  const edit = (on: boolean) => {
    setEditing(on);
    onEditing(on);
  };
  useKeys(
    (input, key) => {
      if (key.upArrow) cursor.move(-1);
      else if (key.downArrow) cursor.move(1);
      else if (key.return && fields[cursor.current()]) edit(true);
      else if (input === 'd' && fields[cursor.current()]) onReset(fields[cursor.current()].name);
      else if (key.escape || key.backspace || key.delete) onBack();
    },
    { isActive: !editing },
  );
  const field = fields[index];
  const { width, bodyHeight } = useLayout();
  // each field takes up to 2 rows (its zod message under it); then the object's message, a spacer, type, description, the prompt
  const view = windowOf(fields, index, Math.max(1, Math.floor((bodyHeight - 7) / 2)));
  return (
    <Frame title={`params ${node.id} (${node.op})`} keys={editing ? EDIT_KEYS : KEYS}>
      <Text color={theme.muted} wrap="truncate">
        {fit(node.title, width)}
      </Text>
      {fields.length === 0 ? <Text>this operation has no parameters</Text> : null}
      {view.items.map((f, i) => {
        const at = view.start + i;
        const err = errors[f.name];
        return (
          <Box key={f.name} flexDirection="column">
            <Row selected={at === index}>{fit(`${f.name.padEnd(16)} = ${formatValue(values[f.name])}`, width - 4)}</Row>
            {err ? (
              <Text color={theme.error} wrap="truncate">
                {fit(`    ✗ ${err}`, width)}
              </Text>
            ) : null}
          </Box>
        );
      })}
      {errors[''] ? <Text color={theme.error} wrap="truncate">{fit(`✗ ${errors['']}`, width)}</Text> : null}
      <Box flexGrow={1} />
      {field ? (
        <Box flexDirection="column">
          <Text color={theme.muted} wrap="truncate">
            {fit(`${field.name}: ${field.type}`, width)}
          </Text>
          {field.description ? (
            <Text color={theme.muted} wrap="truncate">
              {fit(field.description, width)}
            </Text>
          ) : null}
        </Box>
      ) : null}
      {editing && field ? (
        <TextPrompt
          label={field.name}
          initial={formatValue(values[field.name])}
          onSubmit={(text) => {
            onChange(field.name, parseFieldText(field, text));
            edit(false);
          }}
          onCancel={() => edit(false)}
        />
      ) : null}
    </Frame>
  );
}
