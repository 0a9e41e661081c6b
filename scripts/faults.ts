/**
 * `npm run faults`: the fault matrix (scripts/faults/matrix.ts). Builds the function, records the calls
 * of a clean rotation per scenario, strikes every fault at every call (those of one call, and a cloud that lags:
 * KMS reads behind from that call on, that reset landing late), runs again without it, and prints
 * call × fault → run 1 → run 2 with the verdict. Exits 1 if any cell broke a rule (a cell whose fault never
 * struck included).
 *
 *   npm run faults          every scenario: replica set and sharded cluster × fresh, resume and malformed starts × root, and
 *                           an application user (alternating, single) where it means something (scenarios.ts)
 *   npm run faults -- --topology sharding --start fresh --fault timeout --fault killed-after --concurrency 2
 *   npm run faults -- --account alternating --account single
 *   npm run faults -- --write-readme   then writes the README's fault table from the run (the whole matrix only)
 *   npm run faults -- --check-readme   then fails if the README's fault table is not the run's (what CI runs)
 */
import { parseArgs } from 'node:util';
import { FAULT_KINDS } from './faults/kinds';
import { runMatrix } from './faults/matrix';
import { cellsFromResult, readBlock, readReadme, renderBlock, replaceBlock, writeReadme } from './faults/readme';
import { type Scenario, DIMENSIONS, allScenarios, scenarioLabel, valueOf } from './faults/scenarios';
import { formatMatrix } from './faults/table';

const DEFAULT_CONCURRENCY = 8;
const [TOPOLOGIES, STARTS, ACCOUNTS] = DIMENSIONS.map((d) => d.values.map((v) => v.id));

const USAGE = `usage: npm run faults -- [--topology ${TOPOLOGIES.join('|')}]… [--start ${STARTS.join('|')}]… [--account ${ACCOUNTS.join('|')}]… [--fault ID]… [--concurrency N] [--write-readme | --check-readme]
fault ids: ${FAULT_KINDS.map((k) => k.id).join(', ')}`;

interface Selection {
  scenarios: Scenario[];
  kinds?: string[];
  concurrency: number;
  readme?: 'write' | 'check';
}

function readArgs(argv: string[]): Selection {
  const { values } = parseArgs({
    args: argv,
    options: {
      topology: { type: 'string', multiple: true },
      start: { type: 'string', multiple: true },
      account: { type: 'string', multiple: true },
      fault: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
      'write-readme': { type: 'boolean' },
      'check-readme': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const topologies = pick('topology', values.topology, TOPOLOGIES);
  const starts = pick('start', values.start, STARTS);
  const accounts = pick('account', values.account, ACCOUNTS);
  const kinds = values.fault && pick('fault', values.fault, FAULT_KINDS.map((k) => k.id));
  const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a whole number of at least 1, got ${values.concurrency}`);
  const readme = values['write-readme'] ? 'write' : values['check-readme'] ? 'check' : undefined;
  if (values['write-readme'] && values['check-readme']) throw new UsageError('--write-readme and --check-readme: one or the other');
  const whole = !values.topology && !values.start && !values.account && !values.fault;
  if (readme && !whole) throw new UsageError(`--${readme}-readme needs the whole matrix: no --topology, --start, --account or --fault`);
  const scenarios = allScenarios().filter((s) => topologies.includes(s.topology) && starts.includes(s.start) && (accounts as string[]).includes(valueOf(s, 'account')));
  if (scenarios.length === 0) throw new UsageError('no scenario of the matrix has that topology, start and account (see the README: the ones not run)');
  return { scenarios, kinds, concurrency, readme };
}

function pick<T extends string>(option: string, given: string[] | undefined, allowed: readonly T[]): T[] {
  if (!given) return [...allowed];
  const wrong = given.filter((value) => !allowed.includes(value as T));
  if (wrong.length > 0) throw new UsageError(`--${option} ${wrong.join(', ')}: expected one of ${allowed.join(', ')}`);
  return given as T[];
}

class UsageError extends Error {}

async function main(): Promise<number> {
  const selection = readArgs(process.argv.slice(2));
  console.log(`fault matrix: ${selection.scenarios.map(scenarioLabel).join('; ')} (building the function, recording a clean run of each)`);
  let done = 0;
  const result = await runMatrix({
    ...selection,
    onCell: (cell) => {
      done++;
      if (cell.problems.length > 0) console.log(`  ✗ ${scenarioLabel(cell.scenario)} · ${cell.position.label} · ${cell.fault.label}`);
      else if (done % 20 === 0) console.log(`  ${done} cells run`);
    },
  });
  console.log(`\n${formatMatrix(result, selection.scenarios)}`);
  const held = result.cells.every((cell) => cell.problems.length === 0);
  return held && readmeAgrees(selection.readme, renderBlock(cellsFromResult(result))) ? 0 : 1;
}

/** Writes the run's table into the README, or checks that the README holds it. */
function readmeAgrees(mode: Selection['readme'], block: string): boolean {
  if (!mode) return true;
  const readme = readReadme();
  if (mode === 'write') {
    writeReadme(replaceBlock(readme, block));
    console.log('README.md: fault table written from this run');
    return true;
  }
  if (readBlock(readme) === block) {
    console.log('README.md: its fault table is this run\'s');
    return true;
  }
  console.error(`README.md's fault table is not this run's; this run's is:\n${block}\n(npm run faults -- --write-readme writes it)`);
  return false;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`npm run faults failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
