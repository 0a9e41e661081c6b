/**
 * The README's fault table against the matrix's definition (scripts/faults/scenarios.ts: its dimensions and the
 * calls of each scenario), without running the matrix: the cells per fault, topology, start and account follow from
 * the definition, and the README must show exactly those, all held. CI's `npm run faults -- --check-readme` checks
 * the same table against its run.
 */
import { describe, expect, it } from 'vitest';
import { CALL_KINDS, FAULT_KINDS } from '../../scripts/faults/kinds';
import { type CountedCell, cellsFromDefinition, readBlock, readReadme, renderBlock, replaceBlock } from '../../scripts/faults/readme';
import { CALLS, DIMENSIONS, LEFT_OUT, allScenarios, isMongoCommand, scenarioKey } from '../../scripts/faults/scenarios';

const APP_USERS = ['alternating', 'single'];
const isUser = (key: string) => APP_USERS.includes(key.split('/')[2]);
const callsOf = (filter: (key: string) => boolean) => Object.entries(CALLS).filter(([key]) => filter(key)).flatMap(([, calls]) => calls);

describe("the README's fault table", () => {
  it('is the table the matrix definition makes, every cell held', () => {
    expect(readBlock(readReadme())).toBe(renderBlock(cellsFromDefinition()));
  });

  it('counts the cells of each fault, topology and start from the declared calls', () => {
    const cells = cellsFromDefinition();
    const count = (topology: string, start: string, account = 'root') => CALLS[`${topology}/${start}/${account}`].length;
    const perKind = (filter: (c: CountedCell) => boolean) => cells.filter((c) => c.kind === 'timeout' && filter(c)).length;
    const users = (start: string) => count('replicate', start, 'alternating') + count('replicate', start, 'single');
    expect(perKind((c) => c.values.topology === 'replicate')).toBe(count('replicate', 'fresh') + count('replicate', 'resume') + count('replicate', 'malformed') + users('fresh') + users('resume'));
    expect(perKind((c) => c.values.start === 'malformed')).toBe(count('replicate', 'malformed') + count('sharding', 'malformed'));
    expect(perKind((c) => c.values.account === 'root')).toBe(callsOf((key) => !isUser(key)).length);
    // Faults of one call strike root's every call; an application user's DDS and KMS calls, and its MongoDB commands
    // under every kind but throttling (none on MongoDB) and, at the login check's ping, the refusal.
    const root = callsOf((key) => !isUser(key)).length;
    const userApi = callsOf(isUser).filter((label) => !isMongoCommand(label)).length;
    const userCommands = callsOf(isUser).filter(isMongoCommand);
    const pings = userCommands.filter((label) => label.startsWith('ping#')).length;
    const struck = CALL_KINDS.length * (root + userApi) + userCommands.length * (CALL_KINDS.length - 2) - pings;
    expect(cells.filter((c) => CALL_KINDS.some((k) => k.id === c.kind))).toHaveLength(struck);
  });

  it("strikes every DDS and KMS call with a read lag (root's only with the login check on), and only the resets the database accepts with a late apply", () => {
    const cells = cellsFromDefinition();
    const resets = (key: string) => CALLS[key].filter((label) => label.startsWith('ResetAccountPassword#')).length;
    const accepted = allScenarios().reduce((sum, s) => sum + resets(scenarioKey(s)) - (s.start === 'malformed' ? 1 : 0), 0);
    const api = (filter: (key: string) => boolean) => callsOf(filter).filter((label) => !isMongoCommand(label)).length;
    for (const kind of FAULT_KINDS.filter((k) => k.family === 'read-lag')) {
      expect(cells.filter((c) => c.kind === kind.id)).toHaveLength(api((key) => !kind.loginCheck || !isUser(key)));
    }
    for (const kind of FAULT_KINDS.filter((k) => k.family === 'late-apply')) expect(cells.filter((c) => c.kind === kind.id)).toHaveLength(accepted);
    // A replica set resets once (twice when its first password is rejected, the first not accepted), a sharded cluster twice (three times).
    expect(accepted).toBe(1 + 1 + 1 + 2 + 2 + 2);
    expect(FAULT_KINDS.filter((k) => k.family !== 'call')).toHaveLength(4 + 8);
  });

  it('declares the calls of every scenario the dimensions span, and of no other', () => {
    expect(Object.keys(CALLS).sort()).toEqual(allScenarios().map(scenarioKey).sort());
  });

  it('gains a family of columns when the matrix gains a dimension: data, not code', () => {
    const lag = { key: 'lag', values: [{ id: 'none', label: 'no lag', column: 'no lag' }, { id: 'lag', label: 'replication lag', column: 'replication lag' }] };
    const dimensions = [...DIMENSIONS, lag] as unknown as typeof DIMENSIONS;
    const cells: CountedCell[] = [
      { values: { topology: 'replicate', start: 'fresh', account: 'root', lag: 'none' }, kind: 'dropped', held: true, violations: 0 },
      { values: { topology: 'replicate', start: 'fresh', account: 'single', lag: 'lag' }, kind: 'dropped', held: true, violations: 0 },
      { values: { topology: 'sharding', start: 'resume', account: 'root', lag: 'lag' }, kind: 'dropped', held: false, violations: 1 },
    ];
    const [header, , row, total] = renderBlock(cells, FAULT_KINDS, dimensions).split('\n');
    expect(header).toBe(
      '| fault | replica set | sharded cluster | fresh | resuming | rejected password | root | app user, alternating | app user, single | no lag | replication lag | cells | held |',
    );
    expect(row).toBe('| connection dropped before the call was applied | 2 | 1 | 2 | 1 | 0 | 2 | 0 | 1 | 1 | 2 | 3 | 2 |');
    expect(total).toContain("**3** | **2, 1 breach of a cell's rule** |");
  });

  it('runs application users where they mean something, and says under the table which scenarios it leaves out', () => {
    const scenarios = allScenarios().map(scenarioKey);
    expect(scenarios.filter(isUser).sort()).toEqual(['replicate/fresh/alternating', 'replicate/fresh/single', 'replicate/resume/alternating', 'replicate/resume/single']);
    expect(scenarios.filter((key) => !isUser(key))).toHaveLength(2 * 3);
    const block = readBlock(readReadme());
    expect(block).toContain('(not run: rejected password / app user, alternating or app user, single: ');
    expect(block).toContain('sharded cluster / app user, alternating or app user, single: ');
    expect(LEFT_OUT.map((l) => l.why).every((why) => block.includes(why))).toBe(true);
  });

  it("strikes an application user's MongoDB commands: as root (usersInfo, the change) and the login check's ping", () => {
    const cells = cellsFromDefinition(allScenarios().filter((s) => s.account === 'alternating' && s.start === 'fresh'));
    const commands = CALLS['replicate/fresh/alternating'].filter(isMongoCommand);
    expect(commands).toEqual(['usersInfo#1', 'usersInfo#2', 'createUser#1', 'ping#1 (as app_clone)']);
    const kindsPerCommand = cells.length - CALLS['replicate/fresh/alternating'].filter((label) => !isMongoCommand(label)).length * (CALL_KINDS.length + 2);
    // Four commands under six kinds (throttling has no MongoDB answer), but no refusal of the ping; no lag strikes a command.
    expect(kindsPerCommand).toBe(4 * 6 - 1);
  });

  it('is replaced between its markers, the rest of the README kept', () => {
    const readme = readReadme();
    const replaced = replaceBlock(readme, 'a table');
    expect(readBlock(replaced)).toBe('a table');
    expect(replaceBlock(replaced, readBlock(readme))).toBe(readme);
    expect(() => readBlock('no markers')).toThrow(/no fault table/);
  });
});
