/** How the project's command-line scripts start and end: options parsed or usage shown (exit 2), then the work's exit code. */

const describeError = (err: unknown): string => (err instanceof Error ? (err.stack ?? err.message) : String(err));

/** The options `parse` reads, or, when it throws a usage error, that error and the usage on stderr and exit code 2. */
export function optionsOrExit<T>(prefix: string, usage: string, parse: () => T, isUsageError: (err: unknown) => boolean): T {
  try {
    return parse();
  } catch (err) {
    if (!isUsageError(err)) throw err;
    process.stderr.write(`${prefix}: ${(err as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}

/** Ends the process with the work's exit code, or 1 with what went wrong on stderr. */
export function exitWith(prefix: string, work: Promise<number>, describe: (err: unknown) => string = describeError): void {
  work.then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${prefix}: ${describe(err)}\n`);
      process.exitCode = 1;
    },
  );
}

/** The process's environment and output, as the scripts that take them as arguments (invoke, status) want them. */
export const processIo = () => ({
  env: process.env,
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text),
});

/** An error's message alone, for commands whose errors are meant for operators (no stack). */
export const messageOnly = (err: unknown): string => (err instanceof Error ? err.message : String(err));
