/** `npm run invoke -- …`: see scripts/invoke/options.ts for the options, or `npm run invoke -- --help`. */
import { exitWith, messageOnly, processIo } from './cli';
import { runInvoke } from './invoke/main';

exitWith(
  'npm run invoke failed',
  runInvoke(process.argv.slice(2), processIo()),
  messageOnly,
);
