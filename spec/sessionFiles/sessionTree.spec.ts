/**
 * sessionTree (src/protocol/sessionTree.ts) and the tree schemas: pi's `getTree()` rules on
 * hand-made entries, entries pi would never write (duplicate ids, cycles), very deep sessions.
 * (The comparison with pi's own getTree on random files is in readSessionEntries.spec.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SessionEntriesDataSchema,
  SessionTreeDataSchema,
  SessionTreeNodeSchema,
  type SessionEntry,
  type SessionTreeNode,
} from '../../src/protocol/sessionEntries.js';
import { sessionTree } from '../../src/protocol/sessionTree.js';

const T0 = Date.parse('2026-01-02T03:04:05.000Z');

function e(id: string, parentId: string | null, at = 0, extra: Record<string, unknown> = {}): SessionEntry {
  return { type: 'message', id, parentId, timestamp: new Date(T0 + at).toISOString(), ...extra };
}

/** The tree as nested ids: `id(child, child)`. */
function shape(nodes: readonly SessionTreeNode[]): string {
  return nodes.map((node) => (node.children.length ? `${node.entry.id}(${shape(node.children)})` : node.entry.id)).join(' ');
}

/** Every node of a forest, without recursion. */
function allNodes(roots: readonly SessionTreeNode[]): SessionTreeNode[] {
  const out: SessionTreeNode[] = [];
  const stack = [...roots];
  for (let node = stack.pop(); node; node = stack.pop()) {
    out.push(node);
    stack.push(...node.children);
  }
  return out;
}

describe('sessionTree', () => {
  it('is empty for no entries', () => {
    expect(sessionTree([])).toEqual([]);
  });

  it('nests entries under their parents, children oldest first, whatever the file order', () => {
    const entries = [e('root', null, 0), e('a', 'root', 1), e('late', 'root', 30), e('early', 'root', 20), e('a1', 'a', 2)];
    expect(shape(sessionTree(entries))).toBe('root(a(a1) early late)');
  });

  it('keeps file order for equal or unreadable timestamps (unreadable ones last)', () => {
    const entries = [e('r', null), e('x', 'r', 5), e('bad', 'r', 0, { timestamp: 'never' }), e('y', 'r', 5), e('w', 'r', 1)];
    expect(shape(sessionTree(entries))).toBe('r(w x y bad)');
  });

  it('makes roots of entries whose parent is null, themselves or missing, in file order', () => {
    const entries = [e('b', 'gone', 5), e('a', null, 9), e('self', 'self', 1), e('c', 'a', 10)];
    expect(shape(sessionTree(entries))).toBe('b a(c) self');
  });

  it('labels nodes from label entries: the latest wins, an empty label clears it', () => {
    const entries = [
      e('r', null, 0),
      e('l1', 'r', 1, { type: 'label', targetId: 'r', label: 'first' }),
      e('l2', 'l1', 2, { type: 'label', targetId: 'r', label: 'second' }),
      e('l3', 'l2', 3, { type: 'label', targetId: 'l1', label: 'gone soon' }),
      e('l4', 'l3', 4, { type: 'label', targetId: 'l1' }),
      e('l5', 'l4', 5, { type: 'label', targetId: 'missing', label: 'nobody' }),
    ];
    const [root] = sessionTree(entries);
    expect(root).toMatchObject({ label: 'second', labelTimestamp: entries[2]!.timestamp });
    const nodes = allNodes(sessionTree(entries));
    expect(nodes.filter((node) => node.label !== undefined).map((node) => node.entry.id)).toEqual(['r']);
    expect(nodes.find((node) => node.entry.id === 'l1')).not.toHaveProperty('label');
  });

  it('keeps the later entry of a repeated id, once', () => {
    const entries = [e('r', null, 0), e('x', 'r', 1, { v: 1 }), e('y', 'r', 2), e('x', 'y', 3, { v: 2 })];
    const tree = sessionTree(entries);
    expect(shape(tree)).toBe('r(y(x))');
    expect(allNodes(tree).find((node) => node.entry.id === 'x')!.entry).toMatchObject({ v: 2 });
  });

  it('cuts a parentId cycle at its first entry in the list, which becomes a root', () => {
    const entries = [e('r', null, 0), e('child', 'b', 1), e('a', 'b', 2), e('b', 'a', 3)];
    expect(shape(sessionTree(entries))).toBe('r a(b(child))');
  });

  it('builds a 100,000-entry chain without recursion', () => {
    const entries = Array.from({ length: 100_000 }, (_, index) => e(`e${index}`, index ? `e${index - 1}` : null, index));
    const [root] = sessionTree(entries);
    let depth = 0;
    for (let node = root; node; node = node.children[0]) depth++;
    expect(depth).toBe(100_000);
  });

  it('puts every entry in the tree exactly once, under its parent unless that is missing or on a cycle', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const arbitrary = fc.array(
      fc.record({ id: fc.constantFrom(...ids), parent: fc.option(fc.constantFrom(...ids, 'x'), { nil: null }), at: fc.integer({ min: 0, max: 3 }) }),
      {
        maxLength: 12,
      },
    );
    fc.assert(
      fc.property(arbitrary, (specs) => {
        const entries = specs.map((spec) => e(spec.id, spec.parent, spec.at));
        const tree = sessionTree(entries);
        const nodes = allNodes(tree);
        const lastById = new Map(entries.map((entry) => [entry.id, entry]));
        expect(nodes.map((node) => node.entry).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
          [...lastById.values()].sort((a, b) => a.id.localeCompare(b.id)),
        );
        for (const node of nodes) for (const child of node.children) expect(child.entry.parentId).toBe(node.entry.id);
        for (const root of tree) {
          const { parentId } = root.entry;
          if (parentId === null || parentId === root.entry.id || !lastById.has(parentId)) continue;
          // Otherwise it was cut out of a cycle: its ancestors lead back to it.
          const seen = new Set<string>();
          let id: string | null = parentId;
          while (id !== null && id !== root.entry.id && !seen.has(id)) {
            seen.add(id);
            id = lastById.get(id)?.parentId ?? null;
          }
          expect(id).toBe(root.entry.id);
        }
      }),
    );
  });
});

describe('the get_entries / get_tree schemas', () => {
  it('parses a get_tree answer of any depth, dropping invalid nodes and lifting their children', () => {
    let node: unknown = { entry: e('leaf', 'n4999', 5000), children: [] };
    for (let index = 4999; index >= 0; index--)
      node = { entry: e(`n${index}`, index ? `n${index - 1}` : null, index), children: [node], label: index === 0 ? 'top' : undefined };
    const deep = SessionTreeDataSchema.parse({ tree: [node], leafId: 'leaf' });
    expect(deep.tree[0]).toMatchObject({ label: 'top', entry: { id: 'n0' } });
    expect(allNodes(deep.tree)).toHaveLength(5001);

    const odd = SessionTreeDataSchema.parse({
      tree: [{ entry: { type: 'message' }, children: [{ entry: e('kept', null), children: 'nope', labelTimestamp: 7 }] }, 'junk'],
      leafId: 5,
    });
    expect(odd).toEqual({ tree: [{ entry: e('kept', null), children: [] }], leafId: null });
    expect(SessionTreeDataSchema.safeParse({ tree: {}, leafId: null }).success).toBe(false);
  });

  it('parses an object graph that holds a node twice or a cycle, each node once', () => {
    const child: { entry: SessionEntry; children: unknown[] } = { entry: e('c', 'r'), children: [] };
    child.children.push(child);
    const root = { entry: e('r', null), children: [child, child] };
    expect(SessionTreeDataSchema.parse({ tree: [root], leafId: 'c' }).tree).toEqual([
      { entry: e('r', null), children: [{ entry: e('c', 'r'), children: [] }] },
    ]);
  });

  it('parses a single node only when its own entry is valid', () => {
    expect(SessionTreeNodeSchema.parse({ entry: e('a', null), children: [{ entry: e('b', 'a'), children: [] }] })).toEqual({
      entry: e('a', null),
      children: [{ entry: e('b', 'a'), children: [] }],
    });
    expect(SessionTreeNodeSchema.safeParse({ entry: {}, children: [{ entry: e('b', 'a'), children: [] }] }).success).toBe(false);
  });

  it('keeps the valid entries of a get_entries answer', () => {
    expect(SessionEntriesDataSchema.parse({ entries: [e('a', null), { id: 'no type' }, null, e('b', 'a', 1, { extra: 1 })], leafId: 'b' })).toEqual({
      entries: [e('a', null), e('b', 'a', 1, { extra: 1 })],
      leafId: 'b',
    });
  });
});
