// The guard's own check (invariant-guard.test.ts runs this): the project's vitest configuration, its setup file
// included, on this one file.
import path from 'node:path';
import project from '../../../vitest.config.mjs';

export default {
  ...project,
  root: path.resolve(__dirname, '..', '..', '..'),
  test: { ...project.test, include: ['test/architecture/guard-fixture/violations.check.ts'] },
};
