import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

export interface TerminalSize {
  columns: number;
  rows: number;
}

/** 80×24, the size assumed when the output is not a terminal (a pipe, ink-testing-library). */
export const DEFAULT_SIZE: TerminalSize = { columns: 80, rows: 24 };

export function terminalSize(stdout: { columns?: number; rows?: number } | undefined): TerminalSize {
  const { columns, rows } = stdout ?? {};
  return typeof columns === 'number' && columns > 0 && typeof rows === 'number' && rows > 0 ? { columns, rows } : DEFAULT_SIZE;
}

/** The terminal's columns and rows, updated when it is resized (the stream's 'resize' event, i.e. SIGWINCH). */
export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => terminalSize(stdout));
  useEffect(() => {
    const update = () =>
      setSize((s) => {
        const n = terminalSize(stdout);
        return n.columns === s.columns && n.rows === s.rows ? s : n;
      });
    update();
    stdout.on('resize', update);
    return () => {
      stdout.off('resize', update);
    };
  }, [stdout]);
  return size;
}
