import { FocalError, isFocalError } from '../errors.js';
import type { AnyOperationDef } from '../plugin/contract.js';

/**
 * What an operation's error means to the pipeline. Numeric code throws `E_ARGUMENT` naming
 * the argument it refused (`details.field`); an operation usually passes its input ports and
 * params straight through under the same names. So an `E_ARGUMENT` whose field is one of the
 * op's input ports becomes `E_PORT`, one whose field is one of its params becomes `E_PARAMS`
 * (same message and field, the original as cause). Anything else is returned as it is: an op
 * that renames fields on the way (e.g. a port `stack` handed over as `image`) maps them itself.
 */
export function asOpError(op: AnyOperationDef, err: unknown): unknown {
  if (!isFocalError(err) || err.code !== 'E_ARGUMENT') return err;
  const field = err.details.field;
  if (typeof field !== 'string') return err;
  const code = Object.hasOwn(op.inputs, field) ? 'E_PORT' : Object.hasOwn(op.params.shape, field) ? 'E_PARAMS' : undefined;
  return code ? new FocalError(code, err.message, { field }, { cause: err }) : err;
}
