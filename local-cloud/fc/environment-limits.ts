/**
 * What Function Compute accepts as a function's environment variables, as its "Configure
 * environment variables" page states them: a name starts with a letter and holds letters, digits
 * and `_`; names beginning with `FC_` are reserved (FC sets its own, e.g. `FC_FUNC_CODE_PATH`);
 * all variables together take at most 4 KB.
 *
 * FC does not say how it counts the 4 KB. This counts the UTF-8 bytes of the variables as the
 * CreateFunction/UpdateFunction body carries them, a JSON object: names, values, quotes, commas
 * and escapes. That is at least the sum of the names and values, so whatever passes here also
 * passes any narrower count.
 */

export const ENVIRONMENT_SIZE_LIMIT_BYTES = 4096;
export const RESERVED_PREFIX = 'FC_';
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Creating or updating the function fails with FC's `InvalidArgument`. */
export class InvalidEnvironmentError extends Error {
  readonly code = 'InvalidArgument';

  constructor(message: string) {
    super(`InvalidArgument: ${message}`);
    this.name = 'InvalidEnvironmentError';
  }
}

/** The size FC's 4 KB limit is checked against (see above). */
export function environmentSize(environment: Readonly<Record<string, string>>): number {
  return Buffer.byteLength(JSON.stringify(environment), 'utf8');
}

/** Every reason FC would refuse these variables, first the names, then the size; empty when it accepts them. */
export function environmentProblems(environment: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(environment)) {
    if (name.startsWith(RESERVED_PREFIX)) {
      problems.push(`The environment variable name '${name}' is reserved by Function Compute`);
    } else if (!NAME.test(name)) {
      problems.push(`The environment variable name '${name}' is invalid: it must start with a letter and hold only letters, digits and '_'`);
    }
  }
  const size = environmentSize(environment);
  if (size > ENVIRONMENT_SIZE_LIMIT_BYTES) {
    problems.push(
      `The environment variables take ${size} bytes, more than Function Compute's limit of 4 KB (${ENVIRONMENT_SIZE_LIMIT_BYTES} bytes)`,
    );
  }
  return problems;
}

/** Throws FC's refusal for the first problem, as creating or updating the function would. */
export function assertEnvironmentAccepted(environment: Readonly<Record<string, string>>): void {
  const [first] = environmentProblems(environment);
  if (first !== undefined) throw new InvalidEnvironmentError(first);
}
