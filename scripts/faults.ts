/**
 * `npm run faults`: the fault matrix (scripts/faults/matrix.ts). Builds the function, records the calls
 * of a clean rotation per scenario, strikes every fault at every call, runs again without it, and prints
 * call × fault → run 1 → run 2 with the verdict. Exits 1 if any cell broke a rule.
 *
 *   npm run faults          every scenario: replica set and sharded cluster × fresh, resume and malformed starts (seed.ts)
 *   npm run faults -- --topology sharding --start fresh --fault timeout --fault killed-after --concurrency 2
 */
import { parseArgs } from 'node:util';
import { FAULT_KINDS } from './faults/kinds';
import { type Scenario, runMatrix, scenarioLabel } from './faults/matrix';
import type { Start, Topology } from './faults/seed';
import { formatMatrix } from './faults/table';

const TOPOLOGIES: Topology[] = ['replicate', 'sharding'];
const STARTS: Start[] = ['fresh', 'resume', 'malformed'];
const DEFAULT_CONCURRENCY = 4;

const USAGE = `usage: npm run faults -- [--topology replicate|sharding]… [--start fresh|resume|malformed]… [--fault ID]… [--concurrency N]
fault ids: ${FAULT_KINDS.map((k) => k.id).join(', ')}`;

interface Selection {
  scenarios: Scenario[];
  kinds?: string[];
  concurrency: number;
}

function readArgs(argv: string[]): Selection {
  const { values } = parseArgs({
    args: argv,
    options: {
      topology: { type: 'string', multiple: true },
      start: { type: 'string', multiple: true },
      fault: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const topologies = pick('topology', values.topology, TOPOLOGIES);
  const starts = pick('start', values.start, STARTS);
  const kinds = values.fault && pick('fault', values.fault, FAULT_KINDS.map((k) => k.id));
  const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a whole number of at least 1, got ${values.concurrency}`);
  return { scenarios: topologies.flatMap((topology) => starts.map((start) => ({ topology, start }))), kinds, concurrency };
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
  return result.cells.every((cell) => cell.problems.length === 0) ? 0 : 1;
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
