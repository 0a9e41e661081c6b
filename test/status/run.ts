/** Running `npm run status` in-process, with what it printed and the report it printed as JSON. */
import { runStatus } from '../../scripts/status/main';

export interface StatusRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function status(args: string[], env: NodeJS.ProcessEnv): Promise<StatusRun> {
  const run = { stdout: '', stderr: '' };
  const code = await runStatus(args, { env, stdout: (t) => (run.stdout += t), stderr: (t) => (run.stderr += t) });
  return { code, ...run };
}

export interface JsonTarget {
  instanceId: string;
  secretName: string;
  source: string;
  instance: { type?: string; status?: string; lockMode?: string } | null;
  current: { versionId: string; createTime: string; ageDays: number | null; dueAt: string | null } | null;
  pending: { versionId: string; createTime: string; ageMinutes: number | null } | null;
  versions: { used: number; max: number } | null;
  state: string;
  attention: boolean;
  problems: Array<{ state: string; message: string }>;
  action: string | null;
}

export interface JsonReport {
  generatedAt: string;
  region: string;
  intervalDays: number;
  graceHours: number;
  stuckAfterMinutes: number;
  summary: { targets: number; attention: number; states: Record<string, number> };
  targets: JsonTarget[];
}

export async function statusJson(args: string[], env: NodeJS.ProcessEnv): Promise<StatusRun & { report: JsonReport }> {
  const run = await status(['--json', ...args], env);
  return { ...run, report: JSON.parse(run.stdout) as JsonReport };
}
