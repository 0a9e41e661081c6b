import { expect } from 'vitest';
import { ConfigError, type Env, loadConfig } from '../../functions/shared/config';

/** The message of the ConfigError that `env` is refused with; the test fails if it is accepted. */
export function configProblem(env: Env): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}
