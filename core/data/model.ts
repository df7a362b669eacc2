/**
 * A reference to a trained model package on disk (a folder with a manifest and weights).
 * The deep-learning runtime resolves it; ports of type `model` carry this value.
 */
export interface ModelRef {
  readonly kind: 'model';
  /** Folder of the model package. */
  path: string;
  /** The package's parsed manifest. */
  manifest: Record<string, unknown>;
}

export function isModelRef(value: unknown): value is ModelRef {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'model';
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
