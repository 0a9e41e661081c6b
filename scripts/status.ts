/** `npm run status -- …`: see scripts/status/options.ts for the options, or `npm run status -- --help`. */
import { exitWith, messageOnly, processIo } from './cli';
import { runStatus } from './status/main';

exitWith(
  'npm run status failed',
  runStatus(process.argv.slice(2), { ...processIo(), stderrIsTty: process.stderr.isTTY === true }),
  messageOnly,
);
