/** Runs one of the project's scripts (`scripts/<name>.ts`) with tsx, as `npm run <name> -- …` does, and collects what it printed. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../deploy/s-yaml';

const TSX = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The script's exit code and output; a script still running after `timeoutMs` is killed, and that throws. */
export async function runScript(name: string, args: string[], timeoutMs: number): Promise<ScriptRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, [join(PROJECT_ROOT, 'scripts', `${name}.ts`), ...args], { cwd: PROJECT_ROOT, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw err;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** The output's lines, without the trailing newline. */
export const lines = (text: string): string[] => text.trimEnd().split('\n');
