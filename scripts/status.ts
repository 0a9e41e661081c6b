/** `npm run status -- …`: see scripts/status/options.ts for the options, or `npm run status -- --help`. */
import { exitWith } from './cli';
import { runStatus } from './status/main';

exitWith(
  'npm run status failed',
  runStatus(process.argv.slice(2), {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTty: process.stderr.isTTY === true,
  }),
  (error) => (error instanceof Error ? error.message : String(error)),
);
