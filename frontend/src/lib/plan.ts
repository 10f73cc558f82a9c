// Query plans as the studio draws them: a tree flattened into indented
// rows, with collapsed subtrees left out.
import type { Plan, PlanNode } from '../api/types.gen';

export interface PlanRow {
  /** Path of child indexes from the root ("0", "0.2"): stable across renders. */
  id: string;
  depth: number;
  node: PlanNode;
  hasChildren: boolean;
  collapsed: boolean;
}

/** The children of a node. */
export function childrenOf(node: PlanNode): PlanNode[] {
  return node.children ?? [];
}

/** The root nodes of a plan. */
export function rootsOf(plan: Plan): PlanNode[] {
  return plan.nodes ?? [];
}

/** Depth-first rows of a plan; the children of collapsed nodes are skipped. */
export function flattenPlan(nodes: PlanNode[], collapsed: ReadonlySet<string> = new Set()): PlanRow[] {
  const rows: PlanRow[] = [];
  const walk = (list: PlanNode[], depth: number, prefix: string) => {
    list.forEach((node, i) => {
      const id = prefix ? `${prefix}.${i}` : String(i);
      const kids = childrenOf(node);
      const isCollapsed = kids.length > 0 && collapsed.has(id);
      rows.push({ id, depth, node, hasChildren: kids.length > 0, collapsed: isCollapsed });
      if (!isCollapsed) walk(kids, depth + 1, id);
    });
  };
  walk(nodes, 0, '');
  return rows;
}

/** How many nodes of the tree read a whole table. */
export function countFullScans(nodes: PlanNode[]): number {
  return nodes.reduce((n, node) => n + (node.fullScan ? 1 : 0) + countFullScans(childrenOf(node)), 0);
}

/** Estimates and actuals of a node, in a few words ("est. 120 rows · cost
 * 4.2 · actual 98 rows in 0.31 ms"); empty when the plan has none. */
export function nodeFigures(node: PlanNode): string {
  const parts: string[] = [];
  if (node.rows !== undefined) parts.push(`est. ${node.rows} rows`);
  if (node.cost !== undefined) parts.push(`cost ${node.cost}`);
  if (node.actualRows !== undefined || node.actualMs !== undefined) {
    let a = 'actual';
    if (node.actualRows !== undefined) a += ` ${node.actualRows} rows`;
    if (node.actualMs !== undefined) a += ` in ${node.actualMs} ms`;
    parts.push(a);
  }
  return parts.join(' · ');
}
