export { loadFixture, FixtureError, DEFAULT_ACCOUNT_ID } from './fixture';
export type { Fixture, FixtureAccessKey, FixtureInstance, FixtureSecret, FixtureVersion } from './fixture';
export { CloudState, createCloudState } from './cloud-state';
export type { Truth, Violation, ViolationCause, SecretView, SecretVersionView } from './cloud-state';
export type { RequestRecord } from './request-log';
export { REDACTED, redactParams } from './request-log';
export type { Connection, InstanceState, InstanceType, LockMode, Role } from './model';
export { DEMO_FIXTURE_PATH } from '../fixtures';
