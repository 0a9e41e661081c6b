/**
 * The README's fault table against the matrix's definition (scripts/faults/scenarios.ts: its dimensions and the
 * calls of each scenario), without running the matrix: the cells per fault, topology and start follow from the
 * definition, and the README must show exactly those, all held. CI's `npm run faults -- --check-readme` checks
 * the same table against its run.
 */
import { describe, expect, it } from 'vitest';
import { CALL_KINDS, FAULT_KINDS } from '../../scripts/faults/kinds';
import { type CountedCell, cellsFromDefinition, readBlock, readReadme, renderBlock, replaceBlock } from '../../scripts/faults/readme';
import { CALLS, DIMENSIONS, allScenarios, scenarioKey } from '../../scripts/faults/scenarios';

describe("the README's fault table", () => {
  it('is the table the matrix definition makes, every cell held', () => {
    expect(readBlock(readReadme())).toBe(renderBlock(cellsFromDefinition()));
  });

  it('counts the cells of each fault, topology and start from the declared calls', () => {
    const cells = cellsFromDefinition();
    const count = (topology: string, start: string) => CALLS[`${topology}/${start}`].length;
    const perKind = (filter: (c: CountedCell) => boolean) => cells.filter((c) => c.kind === 'timeout' && filter(c)).length;
    expect(perKind((c) => c.values.topology === 'replicate')).toBe(count('replicate', 'fresh') + count('replicate', 'resume') + count('replicate', 'malformed'));
    expect(perKind((c) => c.values.start === 'malformed')).toBe(count('replicate', 'malformed') + count('sharding', 'malformed'));
    const declared = Object.values(CALLS).reduce((sum, calls) => sum + calls.length, 0);
    expect(cells.filter((c) => CALL_KINDS.some((k) => k.id === c.kind))).toHaveLength(declared * CALL_KINDS.length);
  });

  it('strikes every call with a read lag, and only the resets the database accepts with a late apply', () => {
    const cells = cellsFromDefinition();
    const resets = (key: string) => CALLS[key].filter((label) => label.startsWith('ResetAccountPassword#')).length;
    const accepted = allScenarios().reduce((sum, s) => sum + resets(scenarioKey(s)) - (s.start === 'malformed' ? 1 : 0), 0);
    const declared = Object.values(CALLS).reduce((sum, calls) => sum + calls.length, 0);
    for (const kind of FAULT_KINDS.filter((k) => k.family === 'read-lag')) expect(cells.filter((c) => c.kind === kind.id)).toHaveLength(declared);
    for (const kind of FAULT_KINDS.filter((k) => k.family === 'late-apply')) expect(cells.filter((c) => c.kind === kind.id)).toHaveLength(accepted);
    // A replica set resets once (twice when its first password is rejected, the first not accepted), a sharded cluster twice (three times).
    expect(accepted).toBe(1 + 1 + 1 + 2 + 2 + 2);
    expect(FAULT_KINDS.filter((k) => k.family !== 'call')).toHaveLength(4 + 8);
  });

  it('declares the calls of every scenario the dimensions span, and of no other', () => {
    expect(Object.keys(CALLS).sort()).toEqual(allScenarios().map(scenarioKey).sort());
  });

  it('gains a family of columns when the matrix gains a dimension: data, not code', () => {
    const users = { key: 'user', values: [{ id: 'root', label: 'root', column: 'root' }, { id: 'app', label: 'application user', column: 'application user' }] };
    const dimensions = [...DIMENSIONS, users] as unknown as typeof DIMENSIONS;
    const cells: CountedCell[] = [
      { values: { topology: 'replicate', start: 'fresh', user: 'root' }, kind: 'dropped', held: true, violations: 0 },
      { values: { topology: 'replicate', start: 'fresh', user: 'app' }, kind: 'dropped', held: true, violations: 0 },
      { values: { topology: 'sharding', start: 'resume', user: 'app' }, kind: 'dropped', held: false, violations: 1 },
    ];
    const [header, , row, total] = renderBlock(cells, FAULT_KINDS, dimensions).split('\n');
    expect(header).toBe('| fault | replica set | sharded cluster | fresh | resuming | rejected password | root | application user | cells | held |');
    expect(row).toBe('| connection dropped before the call was applied | 2 | 1 | 2 | 1 | 0 | 1 | 2 | 3 | 2 |');
    expect(total).toContain("**3** | **2, 1 breach of a cell's rule** |");
  });

  it('is replaced between its markers, the rest of the README kept', () => {
    const readme = readReadme();
    const replaced = replaceBlock(readme, 'a table');
    expect(readBlock(replaced)).toBe('a table');
    expect(replaceBlock(replaced, readBlock(readme))).toBe(readme);
    expect(() => readBlock('no markers')).toThrow(/no fault table/);
  });
});
