import { Text } from 'ink';
import { useCursor } from '../hooks/useCursor.js';
import { useKeys } from '../hooks/useKeys.js';
import { dirname, join } from 'node:path';
import { useEffect, useState } from 'react';
import { listFolder } from '../services.js';
import { fit, fitLeft, useTheme, windowOf } from '../theme.js';
import { Frame, Row, type KeyHint } from './Frame.js';
import { useLayout } from '../layout.js';

export interface FilePickerProps {
  title: string;
  start: string;
  /** Pick folders instead of files ('.' selects the folder shown). */
  folders?: boolean;
  exts?: readonly string[];
  onPick: (path: string) => void;
  onCancel: () => void;
}

/** A directory browser: ↑/↓, enter opens a folder or picks a file, backspace goes up. Shows folders and .tif/.tiff/.json/.csv files. */
export function FilePicker({ title, start, folders = false, exts, onPick, onCancel }: FilePickerProps) {
  const theme = useTheme();
  const [dir, setDir] = useState(start);
  const [entries, setEntries] = useState<{ name: string; dir: boolean }[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let live = true;
    setEntries(undefined);
    listFolder(dir, folders ? [] : exts)
      .then((e) => {
        if (!live) return;
        setEntries(e);
        cursor.set(0);
        setError(undefined);
      })
      .catch((err: Error) => live && (setEntries([]), setError(err.message)));
    return () => {
      live = false;
    };
  }, [dir, folders, exts]);
  const list = entries ?? [];
  const cursor = useCursor(list.length);
  const index = cursor.index;
  useKeys((input, key) => {
    if (key.upArrow) cursor.move(-1);
    else if (key.downArrow) cursor.move(1);
    else if (key.backspace || key.delete) setDir((d) => dirname(d));
    else if (key.escape) onCancel();
    else if (folders && input === '.') onPick(dir);
    else if (key.return) {
      const e = list[cursor.current()];
      if (!e) return;
      if (e.dir) setDir(join(dir, e.name));
      else onPick(join(dir, e.name));
    }
  });
  const keys: KeyHint[] = [
    { key: '↑/↓', label: 'move' },
    { key: 'enter', label: folders ? 'open' : 'open/pick' },
    ...(folders ? [{ key: '.', label: 'pick this folder' }] : []),
    { key: 'backspace', label: 'up' },
    { key: 'esc', label: 'cancel' },
  ];
  const { width, bodyHeight } = useLayout();
  // the folder, a status line, the entries, an error line
  const view = windowOf(list, index, Math.max(1, bodyHeight - 3));
  return (
    <Frame title={title} keys={keys}>
      <Text bold wrap="truncate">
        {fitLeft(dir, width)}
      </Text>
      {entries === undefined ? <Text>reading…</Text> : null}
      {entries !== undefined && list.length === 0 ? <Text color={theme.muted}>{folders ? '(no sub-folders)' : '(no folders or .tif/.tiff/.json/.csv files)'}</Text> : null}
      {view.items.map((e, i) => (
        <Row key={e.name} selected={view.start + i === index}>
          {fit(e.dir ? `${e.name}/` : e.name, width - 4)}
        </Row>
      ))}
      {error ? <Text color={theme.error} wrap="truncate">{fit(`✗ ${error}`, width)}</Text> : null}
    </Frame>
  );
}
