/**
 * Every error code the functions raise themselves, and every service code they act on, in one place:
 * code that needs one names it from here, so that no code string is written twice and the README's
 * runbook can be checked against this list.
 */

/** Codes the functions raise: in a target's `error.code`, a rejection's `code` or a log line. */
export const OWN_CODES = {
  /** A configuration value that cannot be used. */
  invalidConfiguration: 'InvalidConfiguration',
  /** An event the function does not act on. */
  invalidEvent: 'InvalidEvent',
  /** An EventBridge event whose source EVENT_SOURCES does not list. */
  eventSourceNotAllowed: 'EventSourceNotAllowed',
  /** An incident that names no instance and does not say `"allTargets": true` (incidents fail closed). */
  eventNamesNoInstance: 'EventNamesNoInstance',
  /** The trigger names an instance that is not a target. */
  invalidTarget: 'InvalidTarget',
  /** Some targets failed: the invocation is rejected so that FC counts it failed. */
  rotationFailed: 'RotationFailed',
  /** The dispatcher could not hand some targets over. */
  dispatchFailed: 'DispatchFailed',
  /** The invocation's time ran out before the step could finish. */
  deadlineExceeded: 'DeadlineExceeded',
  /** DescribeDBInstanceAttribute shows a type that is neither a replica set nor a sharded cluster. */
  unsupportedInstanceType: 'UnsupportedDBInstanceType',
  /** A service answered something its API does not document: the target fails rather than be steered by it. */
  invalidResponse: 'InvalidResponse',
  /** Concurrent runs kept moving the labels, or a version cannot be put back on the database. */
  promoteGuard: 'PromoteGuard',
  /** The new password did not log in: not promoted, ACSPending kept. */
  verifyLoginFailed: 'VerifyLoginFailed',
  /** A call timed out before the service answered. */
  requestTimeout: 'RequestTimeout',
  /** A call failed without a service error and without a known transport code. */
  unknownError: 'UnknownError',
  /** An application user's rotation: the instance's root secret is missing, or holds no root password. */
  rootSecretNotFound: 'RootSecretNotFound',
  /** An application user's rotation: root's password was refused, with the root secret's ACSCurrent and its ACSPending. */
  rootLoginFailed: 'RootLoginFailed',
  /** The application user to rotate, or whose roles an alternating rotation copies, does not exist. */
  applicationUserNotFound: 'ApplicationUserNotFound',
  /** Root may not manage the users of the database (MongoDB's 13 Unauthorized). */
  userAdminUnauthorized: 'UserAdminUnauthorized',
  /** The database could not be reached for user commands: the network, a timeout, TLS. */
  userAdminUnreachable: 'UserAdminUnreachable',
  /** A user command failed with another MongoDB error (its code and name in the message). */
  userCommandFailed: 'UserCommandFailed',
  /** An application user's secret holds the credential of another user, instance or authentication database. */
  invalidSecretValue: 'InvalidSecretValue',
} as const;

/** Codes of Alibaba Cloud's services that the functions decide on (as opposed to pass through). */
export const SERVICE_CODES = {
  /** KMS: the secret, or the version asked for, does not exist. */
  secretNotFound: 'Forbidden.ResourceNotFound',
  /** KMS: the VersionId, or the secret name, is taken. */
  resourceExists: 'Rejected.ResourceExist',
  /** KMS: the secret is scheduled for deletion; it can be restored until then. */
  resourceInDeleteWindow: 'Rejected.ResourceInDeleteWindow',
  /** DDS: the instance refuses the password (the rule); no role took it. */
  malformedPassword: 'InvalidAccountPassword.Malformed',
  /** DDS: no such instance. */
  instanceNotFound: 'InvalidDBInstanceId.NotFound',
  /** DDS: the instance is locked (also raised by the inspection, before any write). */
  lockedInstance: 'IncorrectDBInstanceLockMode',
} as const;

/** DDS spells the not-found code with `DB` on most pages and `Db` on some: either means no such instance. */
export const isInstanceNotFound = (code: string): boolean => code.toLowerCase() === SERVICE_CODES.instanceNotFound.toLowerCase();

export type OwnCode = (typeof OWN_CODES)[keyof typeof OWN_CODES];
export type ServiceCode = (typeof SERVICE_CODES)[keyof typeof SERVICE_CODES];
