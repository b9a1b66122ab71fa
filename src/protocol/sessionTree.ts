import type { SessionEntry, SessionTreeNode } from './sessionEntries.js';

/**
 * Builds a session's tree from its entries, as pi's `SessionManager.getTree()` does (what pi 1.x
 * answers to `get_tree`): one node per entry, under the entry its `parentId` names; an entry whose
 * `parentId` is `null`, itself, or an id not in the list is a root. Roots keep the entries' order;
 * children are sorted oldest first by `timestamp` (ties and unreadable timestamps keep file order,
 * unreadable ones after the rest). Each node carries the label of the latest `label` entry that
 * targets it (a `label` entry without a label clears it), with that entry's timestamp.
 *
 * Pure and without recursion, so a session as deep as it is long (every prompt is a child of the
 * previous entry) builds in linear time. On entries pi would never write it still returns a tree:
 * an id that appears twice keeps its later entry (as pi's index does), and a `parentId` cycle is
 * cut at the entry of the cycle that comes first in the list, which becomes a root.
 *
 * Note that `JSON.stringify` recurses: a tree a few thousand entries deep overflows its stack.
 *
 * ## Example
 * ```ts
 * const { entries, leafId } = await session.getEntries();
 * const roots = sessionTree(entries);
 * ```
 *
 * @param entries The session's entries in file order (the header excluded).
 * @return The roots of the tree; a well-formed session has one.
 */
export function sessionTree(entries: readonly SessionEntry[]): SessionTreeNode[] {
  const last = new Map<string, SessionEntry>();
  for (const entry of entries) last.set(entry.id, entry);
  const kept = entries.filter((entry) => last.get(entry.id) === entry);

  const labels = labelsOf(kept);
  const nodes = new Map<string, SessionTreeNode>();
  for (const entry of kept) {
    const node: SessionTreeNode = { entry, children: [] };
    const label = labels.get(entry.id);
    if (label) {
      node.label = label.label;
      node.labelTimestamp = label.timestamp;
    }
    nodes.set(entry.id, node);
  }

  const parentOf = (entry: SessionEntry): SessionTreeNode | undefined =>
    entry.parentId === null || entry.parentId === entry.id ? undefined : nodes.get(entry.parentId);
  const roots: SessionTreeNode[] = [];
  for (const entry of kept) (parentOf(entry)?.children ?? roots).push(nodes.get(entry.id)!);

  cutCycles(kept, nodes, parentOf, roots);
  sortChildren(roots);
  return roots;
}

/** The label of each target id, from the `label` entries in order. */
function labelsOf(entries: readonly SessionEntry[]): Map<string, { readonly label: string; readonly timestamp: string }> {
  const labels = new Map<string, { readonly label: string; readonly timestamp: string }>();
  for (const entry of entries) {
    if (entry.type !== 'label' || typeof entry['targetId'] !== 'string') continue;
    const label = entry['label'];
    if (typeof label === 'string' && label) labels.set(entry['targetId'], { label, timestamp: entry.timestamp });
    else labels.delete(entry['targetId']);
  }
  return labels;
}

/**
 * Entries on a `parentId` cycle (or below one) are not reachable from any root. For each, walk
 * up to the cycle, detach the cycle's first entry in the list from its parent and make it a root.
 */
function cutCycles(
  entries: readonly SessionEntry[],
  nodes: ReadonlyMap<string, SessionTreeNode>,
  parentOf: (entry: SessionEntry) => SessionTreeNode | undefined,
  roots: SessionTreeNode[],
): void {
  const reached = new Set<SessionTreeNode>();
  const reach = (from: SessionTreeNode): void => {
    const stack = [from];
    for (let node = stack.pop(); node; node = stack.pop()) {
      reached.add(node);
      for (const child of node.children) stack.push(child);
    }
  };
  roots.forEach(reach);
  if (reached.size === nodes.size) return;
  const order = new Map(entries.map((entry, index) => [nodes.get(entry.id)!, index]));
  for (const entry of entries) {
    let node = nodes.get(entry.id)!;
    if (reached.has(node)) continue;
    // Unreached, so is every ancestor: going up must come round to a node seen on the way.
    const path = new Set<SessionTreeNode>();
    while (!path.has(node)) {
      path.add(node);
      node = parentOf(node.entry)!;
    }
    let first = node;
    for (let member = parentOf(node.entry)!; member !== node; member = parentOf(member.entry)!) {
      if (order.get(member)! < order.get(first)!) first = member;
    }
    const parent = parentOf(first.entry)!;
    parent.children.splice(parent.children.indexOf(first), 1);
    roots.push(first);
    reach(first);
  }
}

/** Sorts every node's children by timestamp, oldest first (stable; unreadable timestamps last). */
function sortChildren(roots: readonly SessionTreeNode[]): void {
  const time = (node: SessionTreeNode): number => {
    const parsed = Date.parse(node.entry.timestamp);
    return Number.isNaN(parsed) ? Number.POSITIVE_INFINITY : parsed;
  };
  const stack = [...roots];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.children.length > 1) {
      const keyed = node.children.map((child) => ({ child, at: time(child) }));
      keyed.sort((a, b) => (a.at === b.at ? 0 : a.at < b.at ? -1 : 1));
      node.children = keyed.map(({ child }) => child);
    }
    for (const child of node.children) stack.push(child);
  }
}
