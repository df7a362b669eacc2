import type { z } from 'zod';

/**
 * A copy of `value` with no prototype when it is a plain JSON object, else `value` itself.
 *
 * User keys (parameter names, node ids, input names) must never meet `Object.prototype`:
 * zod reads `input[key]` for each key of a params schema, so on a plain `{}` an optional
 * parameter named `constructor` or `toString` "is given" the inherited function and fails
 * its type check (it can then never be left out), and `'constructor' in {}` is true. On a
 * null-prototype copy only the object's own keys exist. A `__proto__` key from
 * `JSON.parse` (an own data property) stays an own, ordinary key of the copy.
 */
export function withoutPrototype<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    Object.defineProperty(copy, key, { value: (value as Record<string, unknown>)[key], enumerable: true, writable: true, configurable: true });
  }
  return copy as T;
}

/** `schema.safeParse(params ?? {})` on a prototype-free copy of the params (see {@link withoutPrototype}). */
export function safeParseParams<S extends z.ZodType>(schema: S, params: unknown): ReturnType<S['safeParse']> {
  return schema.safeParse(withoutPrototype(params ?? {})) as ReturnType<S['safeParse']>;
}
