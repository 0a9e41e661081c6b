/**
 * What a failed login check tells the operator: why the new password was not proved, and who is
 * locked out, i.e. whether the old password (ACSCurrent's, what applications read) still logs in.
 */
import type { LoginFailure } from './login';

/** Whether the old password logs in; `unknown` says why it could not be told. */
export type OldPasswordStatus = { status: 'works' } | { status: 'refused' } | { status: 'unknown'; why: string };

export interface VerifyFailure {
  /** `host:port` logged in to. */
  at: string;
  /** The pending version that keeps ACSPending. */
  versionId: string;
  /** The reset was applied a second time before the last check. */
  reapplied: boolean;
  failure: LoginFailure;
  old: OldPasswordStatus;
}

export function verifyFailureMessage({ at, versionId, reapplied, failure, old }: VerifyFailure): string {
  return (
    `${headline(failure, at, reapplied)}; ${oldPasswordText(old, failure)}. ` +
    `Not promoted: version ${versionId} keeps ACSPending, and the next run re-applies and verifies it. ` +
    `The login check said: ${failure.message}`
  );
}

function headline(failure: LoginFailure, at: string, reapplied: boolean): string {
  const again = reapplied ? ', also after re-applying it' : '';
  switch (failure.reason) {
    case 'auth-failed':
      return `the new password was refused at ${at} (auth-failed, code 18)${again}`;
    case 'unreachable':
      return `the login check could not reach ${at} (unreachable)`;
    case 'timeout':
      return `${at} did not answer the login check in time (timeout)`;
    case 'tls':
      return `the TLS connection to ${at} failed (tls)`;
    case 'busy':
      return `${at} refused the login check for now, shedding load (busy)`;
    case 'error':
      return `the login check at ${at} failed (error)`;
  }
}

function oldPasswordText(old: OldPasswordStatus, failure: LoginFailure): string {
  if (old.status === 'works') return 'the old password (ACSCurrent) still logs in: applications keep working';
  if (old.status === 'refused') {
    return 'the old password (ACSCurrent) is refused too: neither password logs in, so applications that read ACSCurrent cannot log in either';
  }
  const heldNow =
    failure.reason === 'auth-failed' ? '' : ' (the instance accepted the reset, so applications reading ACSCurrent may be refused once they reconnect)';
  return `whether the old password (ACSCurrent) still logs in is unknown: ${old.why}${heldNow}`;
}
