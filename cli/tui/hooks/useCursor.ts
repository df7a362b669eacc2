import { useCallback, useRef, useState } from 'react';

/**
 * A list cursor whose value is current even between renders: several keys in one input
 * chunk (a paste, tmux send-keys, key repeat) each see the moves made before them.
 */
export function useCursor(length: number, initial = 0): { index: number; current: () => number; move: (delta: number) => void; set: (i: number) => void } {
  const ref = useRef(initial);
  const [index, setIndex] = useState(initial);
  const lengthRef = useRef(length);
  lengthRef.current = length;
  if (ref.current > Math.max(0, length - 1)) ref.current = Math.max(0, length - 1);
  const set = useCallback((i: number) => {
    ref.current = Math.max(0, Math.min(lengthRef.current - 1, i));
    setIndex(ref.current);
  }, []);
  const move = useCallback((delta: number) => set(ref.current + delta), [set]);
  const current = useCallback(() => ref.current, []);
  return { index: Math.min(index, Math.max(0, length - 1)), current, move, set };
}
