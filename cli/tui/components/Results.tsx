import { Box, Text } from 'ink';
import { useCursor } from '../hooks/useCursor.js';
import { useKeys } from '../hooks/useKeys.js';
import { relative } from 'node:path';
import { useEffect, useState } from 'react';
import type { RunSummary } from '../../../core/index.js';
import { useLayout } from '../layout.js';
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

export function TableView({ table, width }: { table: TablePreview; width: number }) {
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
      <Text color={theme.muted} wrap="truncate">
        {fit(
          `${table.total > table.rows.length ? `… ${table.rows.length} of ${table.total} rows` : `${table.total} rows`}${hidden > 0 ? ` · ${hidden} more columns: ${fit(table.columns.slice(widths.length).join(', '), Math.max(20, width - 40))}` : ''}`,
          width,
        )}
      </Text>
    </Box>
  );
}

/**
 * The outputs to list in `budget` rows, output i taking `heights[i]` rows: from the first,
 * or, when the selected one would not show, ending with it.
 */
export function outputWindow(heights: readonly number[], index: number, budget: number): { start: number; end: number } {
  const sum = (a: number, b: number) => heights.slice(a, b).reduce((x, y) => x + y, 0);
  let end = 0;
  while (end < heights.length && sum(0, end + 1) <= budget) end++;
  if (index < end || heights.length === 0) return { start: 0, end: Math.max(end, Math.min(1, heights.length)) };
  let start = index;
  end = index + 1;
  while (start > 0 && sum(start - 1, end) <= budget) start--;
  while (end < heights.length && sum(start, end + 1) <= budget) end++;
  return { start, end };
}

/**
 * The rows of the results screen's body (`bodyHeight`): the summary line, the outputs list (at
 * most half the body; a line says how many more when not all fit), a blank line, the caption of
 * the selected output, and what is left for its table or picture.
 */
export function resultsLayout(heights: readonly number[], index: number, bodyHeight: number): { start: number; end: number; more: boolean; content: number } {
  const total = heights.reduce((a, b) => a + b, 0);
  const half = Math.max(2, Math.floor((bodyHeight - 1) / 2));
  const all = total <= half;
  const w = outputWindow(heights, index, all ? total : half - 1);
  const listRows = heights.slice(w.start, w.end).reduce((a, b) => a + b, 0) + (all ? 0 : 1);
  return { ...w, more: !all, content: Math.max(1, bodyHeight - 1 - listRows - 2) };
}

/** Screen 5: what a run wrote: every output and its files, the PNG preview path, and the first rows of each table. */
export function Results({ summary, cwd, readTable, onBack, onHome }: { summary: RunSummary; cwd: string; readTable: (file: string, n: number) => Promise<TablePreview>; onBack: () => void; onHome: () => void }) {
  const theme = useTheme();
  const { width, bodyHeight } = useLayout();
  const [table, setTable] = useState<{ file: string; rows: number; table?: TablePreview; error?: string } | undefined>();
  const outputs = summary.outputs;
  const cursor = useCursor(outputs.length);
  const index = cursor.index;
  const current = outputs[index];
  const pngOf = (o: (typeof outputs)[number]) => (o.type === 'stack' || o.type === 'image' ? o.files.find((f) => f.endsWith('.png')) : undefined);
  const currentPng = current ? pngOf(current) : undefined;
  const tableFile = current ? (current.type === 'table' ? current.files.find((f) => f.endsWith('.csv')) : current.type === 'json' ? current.files[0] : undefined) : undefined;
  const heights = outputs.map((o) => (o.files.some((f) => f.endsWith('.png')) ? 2 : 1));
  const layout = resultsLayout(heights, index, bodyHeight);
  // a table: its header, its rows, and the line that counts them
  const tableRows = Math.max(1, layout.content - 2);
  useEffect(() => {
    if (!tableFile) {
      setTable(undefined);
      return;
    }
    let live = true;
    readTable(tableFile, tableRows)
      .then((t) => live && setTable({ file: tableFile, rows: tableRows, table: t }))
      .catch((err: Error) => live && setTable({ file: tableFile, rows: tableRows, error: err.message }));
    return () => {
      live = false;
    };
  }, [tableFile, tableRows, readTable]);
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
  const shown = table && table.file === tableFile ? table : undefined;
  return (
    <Frame title={`results ${summary.pipeline}`} keys={KEYS}>
      <Text color={theme.ok} wrap="truncate">
        {fit(`done in ${(summary.totalMs / 1000).toFixed(2)} s · provenance: ${rel(summary.provenanceFile)}`, width)}
      </Text>
      {outputs.slice(layout.start, layout.end).map((o, j) => {
        const i = layout.start + j;
        const main = o.files.filter((f) => !f.endsWith('.png'));
        const png = o.files.find((f) => f.endsWith('.png'));
        return (
          <Box key={o.name} flexDirection="column">
            <Text color={i === index ? theme.accent : undefined} bold={i === index} wrap="truncate">
              {fit(`${i === index ? '› ' : '  '}${o.name} (${o.type}): ${main.map((f) => fitLeft(rel(f), Math.max(40, Math.floor(width / 2)))).join(', ')}`, width)}
            </Text>
            {png ? <Text wrap="truncate">{fit(`    preview: ${rel(png)}`, width)}</Text> : null}
          </Box>
        );
      })}
      {layout.more ? <Text color={theme.muted}>{fit(`… ${outputs.length - (layout.end - layout.start)} more outputs (↑/↓)`, width)}</Text> : null}
      <Box flexDirection="column" marginTop={1}>
        {shown?.table ? (
          <>
            <Text bold wrap="truncate">{fit(`${current?.name}: ${rel(shown.file)}`, width)}</Text>
            <TableView table={shown.table} width={width - 2} />
          </>
        ) : shown?.error ? (
          <Text color={theme.error} wrap="truncate">{fit(`✗ ${shown.error}`, width)}</Text>
        ) : current && currentPng && theme.color ? (
          <>
            <Text bold wrap="truncate">{fit(`${current.name}: ${rel(currentPng)} (half-block preview)`, width)}</Text>
            <ImagePreview file={currentPng} maxCols={width} maxRows={layout.content} />
          </>
        ) : current && (current.type === 'stack' || current.type === 'image') ? (
          <Text color={theme.muted} wrap="wrap">
            {fit(`Open the .tif in Fiji/ImageJ, or the PNG preview in an image viewer${theme.color ? '' : ' (images are drawn in the terminal only with colour on: NO_COLOR is set)'}.`, 2 * width)}
          </Text>
        ) : null}
      </Box>
    </Frame>
  );
}
