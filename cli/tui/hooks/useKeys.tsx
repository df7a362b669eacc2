import { useInput, type Key } from 'ink';
import { createContext, useContext, useLayoutEffect, useRef, type ReactNode } from 'react';

type Handler = (input: string, key: Key) => void;
interface Entry {
  handler: { current: Handler };
  active: { current: boolean };
}

const KeyRouterContext = createContext<Set<Entry> | null>(null);

/**
 * One stdin subscription for the whole UI, dispatching each key to every active `useKeys`
 * handler. Ink's own `useInput` subscribes in a passive effect, which can run well after a
 * new screen is on the terminal, so a key typed right after a screen change could reach no
 * one. Here handlers are (un)registered in layout effects, at commit, before the frame is
 * shown, and each handler is read from a ref set at render time. While `paused`, keys reach no one.
 */
export function KeyRouter({ children, paused = false }: { children: ReactNode; paused?: boolean }) {
  const entries = useRef(new Set<Entry>()).current;
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  useInput((input, key) => {
    if (pausedRef.current) return; // e.g. while the terminal is too small and the screens are hidden
    for (const e of [...entries]) if (entries.has(e) && e.active.current) e.handler.current(input, key);
  });
  return <KeyRouterContext.Provider value={entries}>{children}</KeyRouterContext.Provider>;
}

/** Keys for a component: through the KeyRouter above it, or Ink's useInput when rendered alone. */
export function useKeys(handler: Handler, options: { isActive?: boolean } = {}): void {
  const entries = useContext(KeyRouterContext);
  const isActive = options.isActive ?? true;
  const handlerRef = useRef(handler);
  handlerRef.current = handler;
  const activeRef = useRef(isActive);
  activeRef.current = isActive;
  useLayoutEffect(() => {
    if (!entries) return;
    const entry: Entry = { handler: handlerRef, active: activeRef };
    entries.add(entry);
    return () => {
      entries.delete(entry);
    };
  }, [entries]);
  useInput((input, key) => handlerRef.current(input, key), { isActive: entries === null && isActive });
}
