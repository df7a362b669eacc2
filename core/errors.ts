/**
 * Focal's one error type. Every error a user can cause (bad file, bad pipeline,
 * bad parameter) is a `FocalError` with a stable `code` and details that name
 * the file, node or field concerned. Callers branch on `code`, never on text.
 */
export type FocalErrorCode =
  /** A file could not be read or written (missing, permissions, disk full). */
  | 'E_IO'
  /** A file is not a valid file of its format (corrupt, truncated, not a TIFF). */
  | 'E_FORMAT'
  /** A valid file uses a feature Focal does not support (e.g. 64-bit samples). */
  | 'E_UNSUPPORTED'
  /** Parameters failed validation. */
  | 'E_PARAMS'
  /** A pipeline document failed validation; `details.problems` lists each one. */
  | 'E_PIPELINE'
  /** No registered operation has this id. */
  | 'E_OP_NOT_FOUND'
  /** A value of the wrong kind was given to or returned from a port. */
  | 'E_PORT'
  /** A plugin manifest or package is invalid. */
  | 'E_MANIFEST'
  /** A plugin's code threw, or returned something its manifest does not allow. */
  | 'E_PLUGIN'
  /** A pipeline node failed; `details.node` and `details.op` name it, `cause` holds the error. */
  | 'E_NODE_FAILED'
  /** The run was cancelled through its AbortSignal. */
  | 'E_CANCELLED'
  /** Bad command-line usage. */
  | 'E_USAGE'
  /** Invalid argument to a library function (programming error by the caller). */
  | 'E_ARGUMENT';

export interface FocalErrorDetails {
  /** File the error is about. */
  file?: string;
  /** Pipeline node id. */
  node?: string;
  /** Operation id. */
  op?: string;
  /** Field or JSON pointer (`/nodes/blur/params/sigmaPx`). */
  field?: string;
  [key: string]: unknown;
}

export class FocalError extends Error {
  readonly code: FocalErrorCode;
  readonly details: FocalErrorDetails;

  constructor(code: FocalErrorCode, message: string, details: FocalErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FocalError';
    this.code = code;
    this.details = details;
  }
}

/** Structural check that also works across two copies of the focal package. */
export function isFocalError(err: unknown): err is FocalError {
  return (
    err instanceof FocalError ||
    (typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'FocalError' && typeof (err as { code?: unknown }).code === 'string')
  );
}

/** Codes caused by how Focal was called (exit code 2) rather than by what happened while running (exit code 1). */
export const USAGE_ERROR_CODES: ReadonlySet<FocalErrorCode> = new Set(['E_USAGE', 'E_PIPELINE', 'E_PARAMS', 'E_OP_NOT_FOUND', 'E_MANIFEST']);

/** Throws `E_CANCELLED` if the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new FocalError('E_CANCELLED', 'cancelled');
}
