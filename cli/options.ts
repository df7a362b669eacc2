/**
 * Command-line options declared as zod object schemas. Each field carries its commander
 * flags and help in `.meta({ flags, description })`; {@link addOptions} turns the schema into
 * commander options (a boolean field is a switch, an array field a repeatable option, a field
 * that is neither optional nor defaulted a required option), and {@link parseOptions} parses
 * what commander collected with the same schema, so the command receives `z.output` of it.
 * A refused value is `E_USAGE` naming the flag: `--concurrency: must be a positive integer, got '0'`.
 */
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { BACKEND_NAMES, FocalError, type BackendName } from '../core/startup.js';

export interface FlagMeta {
  /** commander's flag syntax, e.g. `-o, --out <dir>` */
  flags: string;
  description: string;
}

export type OptionsSchema = z.ZodObject<z.ZodRawShape>;

function flagMeta(schema: z.ZodType, key: string): FlagMeta {
  const meta = schema.meta() as Partial<FlagMeta> | undefined;
  if (typeof meta?.flags !== 'string') throw new FocalError('E_ARGUMENT', `CLI option '${key}' declares no flags in its schema's meta`);
  return { flags: meta.flags, description: meta.description ?? '' };
}

/** The schema under optional/default wrappers. */
function inner(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  return s;
}

/** The long flag of a commander flag string: `-o, --out <dir>` → `--out`. */
export function longFlag(flags: string): string {
  return flags.split(/[ ,|]+/).find((f) => f.startsWith('--')) ?? flags;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Adds every field of `schema` to `command` as a commander option. */
export function addOptions(command: Command, schema: OptionsSchema): Command {
  for (const [key, field] of Object.entries(schema.shape) as [string, z.ZodType][]) {
    const { flags, description } = flagMeta(field, key);
    const option = new Option(flags, description);
    const base = inner(field);
    if (base instanceof z.ZodArray) option.argParser(collect);
    if (!field.safeParse(undefined).success && !(base instanceof z.ZodBoolean)) option.makeOptionMandatory();
    command.addOption(option);
  }
  return command;
}

/**
 * Parses commander's option values with `schema` (unknown keys, e.g. the globals of
 * `optsWithGlobals()`, are left out).
 * @throws FocalError `E_USAGE` naming the flag, the problem and the value given.
 */
export function parseOptions<S extends OptionsSchema>(schema: S, values: Record<string, unknown>): z.output<S> {
  const given: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) if (values[key] !== undefined) given[key] = values[key];
  const parsed = schema.safeParse(given);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = String(issue.path[0] ?? '');
  const field = schema.shape[key] as z.ZodType | undefined;
  const flag = field ? longFlag(flagMeta(field, key).flags) : key;
  const value = given[key];
  const shown = Array.isArray(value) ? value.join(' ') : String(value);
  const got = value === undefined || issue.code === 'custom' ? '' : `, got '${shown}'`;
  throw new FocalError('E_USAGE', `${flag}: ${issue.message}${got}`, { field: flag });
}

/** A flag option's schema with its commander flags and help. */
export function flag<T extends z.ZodType>(schema: T, flags: string, description: string): T {
  return schema.meta({ flags, description }) as T;
}

/** Options of a command whose only option is `--json`. */
export const jsonOnly = (description: string) => z.object({ json: flag(z.boolean().optional(), '--json', description) });

const POSITIVE_INTEGER = 'must be a positive integer';

/** A whole number ≥ 1 given as text (`Number()` of it, as before). */
export const positiveInt = () => z.coerce.number({ error: POSITIVE_INTEGER }).int({ error: POSITIVE_INTEGER }).min(1, { error: POSITIVE_INTEGER });

/** A TensorFlow.js backend name, any case; '' and 'auto' mean the best available. */
export const backendName = () =>
  z.string().transform((value, ctx): BackendName | 'auto' => {
    const v = value.trim().toLowerCase();
    if (v === '' || v === 'auto') return 'auto';
    if ((BACKEND_NAMES as readonly string[]).includes(v)) return v as BackendName;
    ctx.addIssue({ code: 'custom', message: `unknown backend '${value}' (expected one of auto, ${BACKEND_NAMES.join(', ')})` });
    return z.NEVER;
  });
