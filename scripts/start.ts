/**
 * `npm start`: the main job on the local cloud. Builds the function, starts the local cloud with
 * its demo fleet, deploys the built bundle from s.yaml to the local Function Compute, fires the
 * daily timer, and prints what happened to each instance next to the truth: does KMS ACSCurrent
 * now hold the password the database has? Exits 0 when everything behaved as designed.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startLocalCloud, type LocalCloud } from '../local-cloud';
import { demoScenario, type DemoTarget } from './demo/scenario';
import { checkRun, type RunCheck } from './demo/check';
import { printRun } from './demo/table';

const root = path.join(__dirname, '..');

async function main(): Promise<number> {
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const cloud = await startLocalCloud({ port: 0 });
  try {
    const scenario = demoScenario(cloud);
    const [spec] = cloud.fc.registerFromServerlessYaml(path.join(root, 's.yaml'), {
      codeRoot: root,
      env: { ROTATION_TARGETS: JSON.stringify(scenario.targets.map(toTargetConfig)) },
    });
    console.log(`local cloud on ${cloud.endpoint}; function ${spec.name} deployed from s.yaml (dist/rotate)\n`);

    const checks: RunCheck[] = [];
    for (const step of scenario.steps) {
      const invocation = await step.invoke(spec.name);
      const check = checkRun(cloud, scenario.targets, step, invocation);
      printRun(step, check);
      checks.push(check);
    }
    return verdict(cloud, checks);
  } finally {
    await cloud.close();
  }
}

function toTargetConfig(target: DemoTarget) {
  return { instanceId: target.instanceId, secretName: target.secretName };
}

function verdict(cloud: LocalCloud, checks: RunCheck[]): number {
  const problems = checks.flatMap((check) => check.problems);
  const violations = cloud.truth.violations.length;
  console.log(`invariant monitor: ${violations === 0 ? 'no violation' : `${violations} violation(s)`} over ${cloud.truth.writeRequests().length} writes`);
  if (problems.length === 0 && violations === 0) {
    console.log('everything behaved as designed');
    return 0;
  }
  for (const problem of problems) console.log(`unexpected: ${problem}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
