/**
 * The functions as `npm run build` builds them, once per test run (test/helpers/global-build.ts): read-only,
 * shared by every suite; a suite that must change a bundle copies it first.
 */
import { join } from 'node:path';
import { inject } from 'vitest';

/** The folder holding `dist/<function>/` (what s.yaml's `code: ./dist/<function>` points at). */
export const builtCodeRoot = (): string => inject('builtCodeRoot');

/** `dist/`: `<function>/index.js` and `<function>.meta.json`. */
export const builtDist = (): string => join(builtCodeRoot(), 'dist');
