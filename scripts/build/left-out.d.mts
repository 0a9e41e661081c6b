/** Types of left-out.mjs, for the TypeScript scripts and tests that read it. */
import type { Plugin } from 'esbuild';

export interface LeftOutModule {
  module: string;
  importer?: string;
  reason: string;
}

export declare const LEFT_OUT_MARKER: string;
export declare const LEFT_OUT_NAMESPACE: string;
export declare const LEFT_OUT: LeftOutModule[];
export declare function leaveOut(modules?: LeftOutModule[]): Plugin;
export declare function stubName(entry: Pick<LeftOutModule, 'module' | 'importer'>): string;
export declare function stubSource(entry: LeftOutModule & { exportNames?: string[] }): string;
