/**
 * The verify step (the login check): the new password logs in before it is promoted. A connection that fails
 * (dropped, unreachable, timed out) or a server shedding load is tried once more. A refused login
 * re-applies it once (the login path may not have taken it yet), then keeps trying for VERIFY_WAIT_SECONDS (a
 * reset can land late, with the instance showing `Running` all along); a login that still fails keeps
 * ACSPending and says who is locked out.
 */
import { toServiceError } from '../../shared/clients/errors';
import { OperationError } from '../../shared/errors';
import { OWN_CODES } from '../../shared/codes';
import type { LogFields } from '../../shared/logger';
import { sleep } from '../../shared/retry';
import { type OldPasswordStatus, verifyFailureMessage } from '../../shared/verify/failure';
import type { LoginFailureReason } from '../../shared/verify/login';
import type { Next, Staged, TargetRun } from './target-run';
import { ACS_CURRENT } from './versions';

const WAIT_FIRST_MS = 500;
/** Failures that say nothing about the password: a connection not made, or a server shedding load. */
const TRANSIENT_FAILURES: readonly LoginFailureReason[] = ['unreachable', 'timeout', 'busy'];
const WAIT_MAX_MS = 5_000;

/** `apply` re-applies the password, confirming its label first, as every write to the database does. */
export async function verify(run: TargetRun, applied: Staged, apply: (staged: Staged) => Promise<Next>): Promise<LogFields> {
  const { applier, log, settings } = run;
  let login = await applier.login(applied.credential);
  if (!login.ok && TRANSIENT_FAILURES.includes(login.reason) && settings.deadline.remainingMs() > WAIT_FIRST_MS) {
    log.warn('the login check did not get through; trying once more', { step: 'verify', at: applier.loginAt(), reason: login.reason });
    await sleep(WAIT_FIRST_MS);
    login = await applier.login(applied.credential);
  }
  let reapplied = false;
  if (!login.ok && login.reason === 'auth-failed') {
    log.warn('the new password was refused; re-applying it once', { step: 'verify', at: applier.loginAt(), versionId: applied.versionId });
    const again = await apply(applied);
    if (again.kind !== 'staged' || again.versionId !== applied.versionId) {
      throw OperationError.of(OWN_CODES.promoteGuard, `version ${applied.versionId} lost its label to a concurrent run during the login check; not promoting it`);
    }
    await applier.settle();
    login = await applier.login(applied.credential);
    reapplied = true;
  }
  const until = settings.now() + Math.min(applier.loginWaitMs, settings.deadline.remainingMs());
  for (let delay = WAIT_FIRST_MS; !login.ok && login.reason === 'auth-failed' && settings.now() + delay <= until; delay = Math.min(delay * 2, WAIT_MAX_MS)) {
    log.info('the new password is refused still; waiting for the reset to take effect', { step: 'verify', delayMs: delay });
    await sleep(delay);
    login = await applier.login(applied.credential);
  }
  const at = applier.loginAt();
  if (login.ok) return { at, reapplied, loginMs: login.durationMs };
  const old: OldPasswordStatus = login.reason === 'auth-failed' ? await oldPasswordStatus(run) : { status: 'unknown', why: 'the login check did not get as far as authentication' };
  log.warn('the new password did not log in; not promoting', { step: 'verify', at, reason: login.reason, previousLogin: old.status });
  throw OperationError.of(OWN_CODES.verifyLoginFailed, verifyFailureMessage({ at, versionId: applied.versionId, reapplied, failure: login, old }));
}

/** Read only when the new password is refused: whether ACSCurrent's password still logs in, i.e. who is locked out. */
async function oldPasswordStatus(run: TargetRun): Promise<OldPasswordStatus> {
  let data: string | undefined;
  try {
    data = await run.store.readStage(ACS_CURRENT);
  } catch (err) {
    return { status: 'unknown', why: `ACSCurrent could not be read (${toServiceError(err).code})` };
  }
  const { credential } = run.readCredential(data);
  if (!credential || credential.password === '') return { status: 'unknown', why: 'ACSCurrent holds no password' };
  const login = await run.applier.login(credential);
  if (login.ok) return { status: 'works' };
  if (login.reason === 'auth-failed') return { status: 'refused' };
  return { status: 'unknown', why: `its own login check failed (${login.reason})` };
}
