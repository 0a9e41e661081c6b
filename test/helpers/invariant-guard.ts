/**
 * Vitest's setup file (vitest.config.mts `setupFiles`), run in every test file: after each test and after the
 * file's last hook, every local cloud started through test/helpers/cloud.ts must have recorded no invariant
 * violation since the last check, unless its test opted out with a written reason.
 */
import { afterAll, afterEach } from 'vitest';
import { expectNoUncheckedViolations, markGuardInstalled } from './cloud';

afterEach(() => expectNoUncheckedViolations());
afterAll(() => expectNoUncheckedViolations());
markGuardInstalled();
