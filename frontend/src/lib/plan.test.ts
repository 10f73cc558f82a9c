import { describe, expect, it } from 'vitest';
import type { Plan, PlanNode } from '../api/types.gen';
import { countFullScans, flattenPlan, nodeFigures, rootsOf } from './plan';

const n = (label: string, children?: PlanNode[], extra: Partial<PlanNode> = {}): PlanNode => ({ label, fullScan: false, ...(children ? { children } : {}), ...extra }) as PlanNode;

const tree = [n('Hash Join', [n('Seq Scan on books', undefined, { fullScan: true }), n('Hash', [n('Index Scan on authors')])]), n('Other')];

describe('flattenPlan', () => {
  it('walks depth first with depths and stable ids', () => {
    const rows = flattenPlan(tree);
    expect(rows.map((r) => [r.id, r.depth, r.node.label, r.hasChildren])).toEqual([
      ['0', 0, 'Hash Join', true],
      ['0.0', 1, 'Seq Scan on books', false],
      ['0.1', 1, 'Hash', true],
      ['0.1.0', 2, 'Index Scan on authors', false],
      ['1', 0, 'Other', false],
    ]);
  });

  it('leaves out the children of collapsed nodes', () => {
    const rows = flattenPlan(tree, new Set(['0.1']));
    expect(rows.map((r) => r.id)).toEqual(['0', '0.0', '0.1', '1']);
    expect(rows[2].collapsed).toBe(true);
    expect(flattenPlan(tree, new Set(['0'])).map((r) => r.id)).toEqual(['0', '1']);
  });

  it('ignores collapsing a leaf', () => {
    const withLeaf = [n('A', [n('B')])];
    expect(flattenPlan(withLeaf, new Set(['0.0'])).map((r) => [r.id, r.collapsed])).toEqual([
      ['0', false],
      ['0.0', false],
    ]);
    expect(flattenPlan([])).toEqual([]);
  });
});

describe('plan helpers', () => {
  it('counts full scans at every depth', () => {
    expect(countFullScans(tree)).toBe(1);
    expect(countFullScans([n('Seq Scan', [n('Seq Scan', undefined, { fullScan: true })], { fullScan: true })])).toBe(2);
  });

  it('reads a plan without nodes as empty', () => {
    expect(rootsOf({ dialect: 'sqlite', analyzed: false, nodes: [n('SCAN t')], raw: '' }).map((x) => x.label)).toEqual(['SCAN t']);
    expect(rootsOf({ dialect: 'sqlite', analyzed: false, nodes: null, raw: '' } as unknown as Plan)).toEqual([]);
  });

  it.each([
    [n('SCAN t'), ''],
    [n('Seq Scan', undefined, { rows: 120, cost: 4.2 }), 'est. 120 rows · cost 4.2'],
    [n('Seq Scan', undefined, { rows: 120, actualRows: 98, actualMs: 0.31 }), 'est. 120 rows · actual 98 rows in 0.31 ms'],
    [n('Seq Scan', undefined, { actualMs: 2 }), 'actual in 2 ms'],
    [n('Seq Scan', undefined, { rows: 0, actualRows: 0 }), 'est. 0 rows · actual 0 rows'],
  ])('figures of %j', (node, want) => {
    expect(nodeFigures(node)).toBe(want);
  });
});
