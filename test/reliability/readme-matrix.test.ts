/**
 * The README's fault table against the matrix's definition (scripts/faults/scenarios.ts: its dimensions and the
 * calls of each scenario), without running the matrix: the cells per fault, topology and start follow from the
 * definition, and the README must show exactly those, all held. CI's `npm run faults -- --check-readme` checks
 * the same table against its run.
 */
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../scripts/faults/kinds';
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
    expect(cells).toHaveLength(Object.values(CALLS).reduce((sum, calls) => sum + calls.length, 0) * FAULT_KINDS.length);
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
    expect(total).toContain('**3** | **2, 1 invariant violation** |');
  });

  it('is replaced between its markers, the rest of the README kept', () => {
    const readme = readReadme();
    const replaced = replaceBlock(readme, 'a table');
    expect(readBlock(replaced)).toBe('a table');
    expect(replaceBlock(replaced, readBlock(readme))).toBe(readme);
    expect(() => readBlock('no markers')).toThrow(/no fault table/);
  });
});
