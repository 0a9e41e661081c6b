/**
 * A local cloud per test: `useCloudPerTest()` returns a starter; after each test the cloud it
 * started must have seen no invariant violation, and it is closed whatever happened.
 */
import { afterEach, expect } from 'vitest';
import { type LocalCloud, type StartOptions, startLocalCloud } from '../../local-cloud';

export function useCloudPerTest(): (options: StartOptions) => Promise<LocalCloud> {
  let cloud: LocalCloud | undefined;
  afterEach(async () => {
    if (!cloud) return;
    const current = cloud;
    cloud = undefined;
    try {
      expect(current.truth.violations).toEqual([]);
    } finally {
      await current.close();
    }
  });
  return async (options) => (cloud = await startLocalCloud({ port: 0, ...options }));
}
