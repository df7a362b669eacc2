/**
 * Task-specific model-manifest extras. A model manifest's `extra` is free-form for core; the
 * plugin that owns a model task (the manifest's `task`, e.g. Deep-R's 'autofocus') declares the
 * zod schema of that task's `extra` as a {@link ModelExtrasDef} in its plugin definition
 * (`modelExtras`, a contribution point). Loading a package with a resolver
 * ({@link ModelExtrasResolver}: the host's plugin registry, or an explicit
 * {@link ModelExtrasRegistry}) or with the definition itself validates `extra` with it
 * (`E_MANIFEST` naming `extra.<field>` and the file) and returns it typed (`z.output`). A task no
 * plugin declares keeps a free-form `extra`. No module state: every registry is an instance.
 */
import { z } from 'zod';
import { FocalError } from '../errors.js';

/** The schema of the `extra` of one model task's manifests, declared by the plugin that owns the task. */
export interface ModelExtrasDef<S extends z.ZodType = z.ZodType> {
  /** The manifest `task` whose `extra` this describes (e.g. 'autofocus'). */
  task: string;
  description: string;
  /**
   * zod schema of `extra` (absent `extra` is parsed as `{}`). Use `z.looseObject` to keep keys the
   * schema does not name (figures a tool adds), `z.object` to drop them.
   */
  schema: S;
}

/** Identity helper that keeps the schema's type (so a package loaded with it has a typed `extra`). */
export function defineModelExtras<S extends z.ZodType>(def: ModelExtrasDef<S>): ModelExtrasDef<S> {
  return def;
}

/** Finds the extras declaration of a model task (undefined: nobody declares it, `extra` stays free-form). */
export interface ModelExtrasResolver {
  extrasFor(task: string): ModelExtrasDef | undefined | Promise<ModelExtrasDef | undefined>;
}

/**
 * Validates a manifest's `extra` (absent: `{}`) with `def`.
 * @throws FocalError `E_MANIFEST` naming `extra.<field>` (the first bad one) and `file`.
 */
export function parseModelExtras<S extends z.ZodType>(def: ModelExtrasDef<S>, extra: unknown, file: string): z.output<S> {
  const r = def.schema.safeParse(extra ?? {});
  if (r.success) return r.data;
  const fieldOf = (i: z.core.$ZodIssue) => ['extra', ...i.path.map(String)].join('.');
  const first = r.error.issues[0];
  throw new FocalError('E_MANIFEST', `invalid model manifest ${file}: ${r.error.issues.map((i) => `${fieldOf(i)}: ${i.message}`).join('; ')} (extra of task '${def.task}')`, {
    file,
    field: fieldOf(first),
    task: def.task,
    problems: r.error.issues.map((i) => ({ field: fieldOf(i), message: i.message })),
  });
}

/**
 * An explicit registry of model extras (embedding applications, tests, tools that load packages
 * without a plugin host): task → declaration; one declaration per task.
 */
export class ModelExtrasRegistry implements ModelExtrasResolver {
  private readonly byTask = new Map<string, { def: ModelExtrasDef; owner: string }>();

  constructor(defs: Iterable<ModelExtrasDef> = [], owner = 'the registry') {
    for (const d of defs) this.register(d, owner);
  }

  /** Adds `def`; `owner` names who declares it in errors. @throws FocalError `E_MANIFEST` when the task is declared already. */
  register(def: ModelExtrasDef, owner = 'the registry'): void {
    const had = this.byTask.get(def.task);
    if (had) throw new FocalError('E_MANIFEST', `model task '${def.task}': its extras are declared by ${had.owner} and by ${owner}; one plugin owns a task`, { task: def.task, sources: [had.owner, owner] });
    this.byTask.set(def.task, { def, owner });
  }

  extrasFor(task: string): ModelExtrasDef | undefined {
    return this.byTask.get(task)?.def;
  }

  /** The declared tasks, sorted. */
  tasks(): string[] {
    return [...this.byTask.keys()].sort();
  }
}
