/** What the dispatcher reads on top of the rotation's own configuration (../shared/config.ts). */
import type { Env } from '../shared/config';
import { showValue } from '../shared/format';
import { ConfigError } from '../shared/errors';

/** The variables only the dispatcher reads; s.yaml is checked against them. */
export const DISPATCH_VARIABLES = ['ROTATE_FUNCTION_NAME'] as const;

export interface DispatchConfig {
  /** The rotate function each target is handed to, in the dispatcher's region and account. */
  rotateFunctionName: string;
}

/** FC 3.0 function names: a letter or `_` first, then letters, digits, `_` and `-`. */
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

export class DispatchConfigError extends ConfigError {
  override readonly name: string = 'DispatchConfigError';

  constructor(problem: string) {
    super('ROTATE_FUNCTION_NAME', problem, 'mongodb-root-rotation');
  }
}

export function loadDispatchConfig(env: Env): DispatchConfig {
  const name = env.ROTATE_FUNCTION_NAME?.trim();
  if (!name) throw new DispatchConfigError('is not set: the dispatcher hands every target to that function');
  if (!FUNCTION_NAME.test(name)) throw new DispatchConfigError(`must be a function name, got ${showValue(name)}`);
  return { rotateFunctionName: name };
}
