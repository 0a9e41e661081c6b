/** `npm run invoke -- …`: see scripts/invoke/options.ts for the options, or `npm run invoke -- --help`. */
import { runInvoke } from './invoke/main';

runInvoke(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`npm run invoke failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
