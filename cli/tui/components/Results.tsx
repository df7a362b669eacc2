import { Box, Text, useStdout } from 'ink';
import { useCursor } from '../hooks/useCursor.js';
import { useKeys } from '../hooks/useKeys.js';
import { relative } from 'node:path';
import { useEffect, useState } from 'react';
import type { RunSummary } from '../../../core/index.js';
import type { TablePreview } from '../services.js';
import { fit, fitLeft, useTheme } from '../theme.js';
import { Frame, type KeyHint } from './Frame.js';
import { ImagePreview } from './ImagePreview.js';

const KEYS: KeyHint[] = [
  { key: '↑/↓', label: 'output' },
  { key: 'esc', label: 'back' },
  { key: 'p', label: 'pipelines' },
  { key: 'q', label: 'quit' },
];

/**
 * Column widths that fit `width`: each column as wide as its widest cell, the widest cut
 * first, none below 8; columns that do not fit even so are left out (and counted).
 */
export function columnWidths(t: TablePreview, width: number): number[] {
  const natural = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const widths: number[] = [];
  let min = 0;
  for (const w of natural) {
    const m = Math.min(w, 8);
    if (min + m + widths.length * 2 > width) break;
    widths.push(w);
    min += m;
  }
  const sep = Math.max(0, widths.length - 1) * 2;
  while (widths.reduce((a, b) => a + b, 0) + sep > width) {
    const max = Math.max(...widths);
    if (max <= 8) break;
    widths[widths.indexOf(max)] = max - 1;
  }
  return widths;
}

export function TableView({ table, width = 78 }: { table: TablePreview; width?: number }) {
  const theme = useTheme();
  const widths = columnWidths(table, width);
  const hidden = table.columns.length - widths.length;
  const line = (cells: string[]) => widths.map((w, i) => fit(cells[i] ?? '', w).padEnd(w)).join('  ');
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        {fit(line(table.columns), width)}
      </Text>
      {table.rows.map((r, i) => (
        <Text key={i} wrap="truncate">
          {fit(line(r), width)}
        </Text>
      ))}
      <Text color={theme.muted}>
        {table.total > table.rows.length ? `… ${table.rows.length} of ${table.total} rows` : `${table.total} rows`}
        {hidden > 0 ? ` · ${hidden} more columns: ${fit(table.columns.slice(widths.length).join(', '), 40)}` : ''}
      </Text>
    </Box>
  );
}

/** Screen 5: what a run wrote: every output and its files, the PNG preview path, and the first rows of each table. */
export function Results({ summary, cwd, readTable, onBack, onHome }: { summary: RunSummary; cwd: string; readTable: (file: string, n: number) => Promise<TablePreview>; onBack: () => void; onHome: () => void }) {
  const theme = useTheme();
  const { stdout } = useStdout();
  const [table, setTable] = useState<{ file: string; table?: TablePreview; error?: string } | undefined>();
  const outputs = summary.outputs;
  const cursor = useCursor(outputs.length);
  const index = cursor.index;
  const current = outputs[index];
  const currentPng = current && (current.type === 'stack' || current.type === 'image') ? current.files.find((f) => f.endsWith('.png')) : undefined;
  const tableFile = current ? (current.type === 'table' ? current.files.find((f) => f.endsWith('.csv')) : current.type === 'json' ? current.files[0] : undefined) : undefined;
  useEffect(() => {
    if (!tableFile) {
      setTable(undefined);
      return;
    }
    let live = true;
    readTable(tableFile, 8)
      .then((t) => live && setTable({ file: tableFile, table: t }))
      .catch((err: Error) => live && setTable({ file: tableFile, error: err.message }));
    return () => {
      live = false;
    };
  }, [tableFile, readTable]);
  useKeys((input, key) => {
    if (key.upArrow) cursor.move(-1);
    else if (key.downArrow) cursor.move(1);
    else if (input === 'p') onHome();
    else if (key.escape || key.backspace || key.delete) onBack();
  });
  const rel = (f: string) => {
    const r = relative(cwd, f);
    return r.startsWith('..') ? f : r;
  };
  return (
    <Frame title={`results ${summary.pipeline}`} keys={KEYS}>
      <Text color={theme.ok} wrap="truncate">
        {fit(`done in ${(summary.totalMs / 1000).toFixed(2)} s · provenance: ${rel(summary.provenanceFile)}`, 80)}
      </Text>
      {outputs.slice(0, 6).map((o, i) => {
        const main = o.files.filter((f) => !f.endsWith('.png'));
        const png = o.files.find((f) => f.endsWith('.png'));
        return (
          <Box key={o.name} flexDirection="column">
            <Text color={i === index ? theme.accent : undefined} bold={i === index} wrap="truncate">
              {fit(`${i === index ? '› ' : '  '}${o.name} (${o.type}): ${main.map((f) => fitLeft(rel(f), 40)).join(', ')}`, 80)}
            </Text>
            {png ? <Text wrap="truncate">{fit(`    preview: ${rel(png)}`, 80)}</Text> : null}
          </Box>
        );
      })}
      {outputs.length > 6 ? <Text color={theme.muted}>… {outputs.length - 6} more outputs</Text> : null}
      <Box flexDirection="column" marginTop={1}>
        {table?.table ? (
          <>
            <Text bold wrap="truncate">{fit(`${current?.name}: ${rel(table.file)}`, 80)}</Text>
            <TableView table={table.table} />
          </>
        ) : table?.error ? (
          <Text color={theme.error}>{fit(`✗ ${table.error}`, 80)}</Text>
        ) : current && currentPng && theme.color ? (
          <>
            <Text bold wrap="truncate">{fit(`${current.name}: ${rel(currentPng)} (half-block preview)`, 80)}</Text>
            <ImagePreview
              file={currentPng}
              maxCols={60}
              // the screen less the frame, the summary line, the outputs list and this caption
              maxRows={Math.max(4, Math.min(20, (stdout?.rows ?? 24) - 8 - 2 * Math.min(outputs.length, 6)))}
            />
          </>
        ) : current && (current.type === 'stack' || current.type === 'image') ? (
          <Text color={theme.muted} wrap="wrap">
            {fit(`Open the .tif in Fiji/ImageJ, or the PNG preview in an image viewer${theme.color ? '' : ' (images are drawn in the terminal only with colour on: NO_COLOR is set)'}.`, 160)}
          </Text>
        ) : null}
      </Box>
    </Frame>
  );
}
