import { createContext, useContext } from 'react';

/** Semantic colours; every one is undefined when colour is off (NO_COLOR), so nothing is coloured. */
export interface Theme {
  color: boolean;
  accent?: string;
  ok?: string;
  error?: string;
  warn?: string;
  muted?: string;
}

/** NO_COLOR (https://no-color.org: present and not empty) turns colour off; chalk 5 itself ignores it. */
export function colorEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}

export function themeFor(color: boolean): Theme {
  return color ? { color, accent: 'cyan', ok: 'green', error: 'red', warn: 'yellow', muted: 'gray' } : { color };
}

export const ThemeContext = createContext<Theme>(themeFor(false));

export function useTheme(): Theme {
  return useContext(ThemeContext);
}

/** Cuts a string to `width` columns with an ellipsis. */
export function fit(s: string, width: number): string {
  if (width <= 0) return '';
  return s.length <= width ? s : `${s.slice(0, Math.max(0, width - 1))}…`;
}

/** Cuts from the left (for paths): `…/end/of/path`. */
export function fitLeft(s: string, width: number): string {
  if (width <= 0) return '';
  return s.length <= width ? s : `…${s.slice(s.length - width + 1)}`;
}

/** The part of a list to show so that `index` is visible in `height` rows. */
export function windowOf<T>(items: readonly T[], index: number, height: number): { start: number; items: T[] } {
  if (items.length <= height) return { start: 0, items: [...items] };
  const start = Math.min(Math.max(0, index - Math.floor(height / 2)), items.length - height);
  return { start, items: items.slice(start, start + height) };
}
