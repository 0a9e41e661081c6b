/** `npm run invoke -- …`: see scripts/invoke/options.ts for the options, or `npm run invoke -- --help`. */
import { exitWith } from './cli';
import { runInvoke } from './invoke/main';

exitWith(
  'npm run invoke failed',
  runInvoke(process.argv.slice(2), {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  }),
  (error) => (error instanceof Error ? error.message : String(error)),
);
