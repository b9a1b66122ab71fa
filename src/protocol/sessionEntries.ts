/**
 * Zod schemas of pi's session entries: the lines of a session file (`<timestamp>_<id>.jsonl`), and
 * what pi 1.x and omp answer to `get_entries` and `get_tree`.
 *
 * A session file starts with a header line (`type: 'session'`) and goes on with one entry per
 * line. Every entry has `type`, `id`, `parentId` (`null` for a root) and an ISO `timestamp`; the
 * rest depends on the type (`message` entries carry an `AgentMessage` in `message`,
 * `model_change` a `provider` and `modelId`, `label` a `targetId`, `session_info` a `name`, …).
 * The entries form a tree through `parentId`: pi never rewrites a line, it branches by appending
 * a child of an earlier entry.
 *
 * Lenient like every inbound schema: only those four fields are checked, the rest passes through
 * untouched, so entry types pidriver does not know (omp has several) are kept.
 */
import * as z from 'zod';
import { AgentMessageSchema } from './frames.js';

/**
 * The first line of a session file: the session's `id`, when it began (`timestamp`, ISO), the
 * `cwd` it ran in, the file format's `version` (pi 0.73 and 1.x write 3; version 1 entries had no
 * `id`/`parentId`, version 2 still said `hookMessage` for `custom` roles) and, for a session made
 * by `fork` or `clone`, the path of the session file it came from (`parentSession`). A header
 * without a `cwd` (very old files) reads as `cwd: ''`.
 */
export const SessionHeaderSchema = z.looseObject({
  type: z.literal('session'),
  id: z.string().min(1),
  timestamp: z.string().catch(''),
  cwd: z.string().catch(''),
  version: z.number().optional().catch(undefined),
  parentSession: z.string().optional().catch(undefined),
});
/** The header line of a pi session file: see {@link SessionHeaderSchema}. */
export type SessionHeader = z.infer<typeof SessionHeaderSchema>;

/**
 * Any session entry, of any `type`. A missing or malformed `parentId` reads as `null` (a root, as
 * pi treats it) and a missing `timestamp` as `''`; an entry without a string `id` is not an entry.
 */
export const SessionEntrySchema = z.looseObject({
  type: z.string(),
  id: z.string().min(1),
  parentId: z.string().nullable().catch(null),
  timestamp: z.string().catch(''),
});
/** One entry of a pi session: see {@link SessionEntrySchema}. */
export type SessionEntry = z.infer<typeof SessionEntrySchema>;

/** A `message` entry: one `AgentMessage` (user, assistant, toolResult, custom, bashExecution, …) of the transcript. */
export const SessionMessageEntrySchema = SessionEntrySchema.extend({
  type: z.literal('message'),
  message: AgentMessageSchema,
});
/** A session entry holding a message: see {@link SessionMessageEntrySchema}. */
export type SessionMessageEntry = z.infer<typeof SessionMessageEntrySchema>;

/**
 * One node of a session's tree, as pi 1.x's `get_tree` sends it and {@link sessionTree} builds
 * it: an entry, its children (oldest first), and the label a `label` entry gave it, if any.
 */
export interface SessionTreeNode {
  entry: SessionEntry;
  children: SessionTreeNode[];
  /** The entry's label, from the latest `label` entry that targets it (absent when cleared). */
  label?: string | undefined;
  /** When that label was set (the `label` entry's timestamp). */
  labelTimestamp?: string | undefined;
}

const LabelSchema = z.string().optional().catch(undefined);

/**
 * Parses a forest of tree nodes without recursion: a long session is a tree as deep as it has
 * entries, far deeper than a recursive zod schema goes (it overflows the stack below 1,000 levels).
 * A node whose entry is not an entry is left out and its children are lifted to its parent.
 */
function parseForest(value: unknown): SessionTreeNode[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const roots: SessionTreeNode[] = [];
  const seen = new Set<object>(); // an object graph (not JSON) may hold a node twice, or a cycle
  const stack: { readonly raw: readonly unknown[]; readonly into: SessionTreeNode[] }[] = [{ raw: value, into: roots }];
  for (let work = stack.pop(); work; work = stack.pop()) {
    for (const raw of work.raw) {
      if (typeof raw !== 'object' || raw === null || seen.has(raw)) continue;
      seen.add(raw);
      const fields = raw as Record<string, unknown>;
      const children = Array.isArray(fields['children']) ? (fields['children'] as unknown[]) : [];
      const entry = SessionEntrySchema.safeParse(fields['entry']);
      if (!entry.success) {
        stack.push({ raw: children, into: work.into });
        continue;
      }
      const node: SessionTreeNode = { entry: entry.data, children: [] };
      const label = LabelSchema.parse(fields['label']);
      const labelTimestamp = LabelSchema.parse(fields['labelTimestamp']);
      if (label !== undefined) node.label = label;
      if (labelTimestamp !== undefined) node.labelTimestamp = labelTimestamp;
      work.into.push(node);
      stack.push({ raw: children, into: node.children });
    }
  }
  return roots;
}

/**
 * A forest of {@link SessionTreeNode}s (the `tree` of a `get_tree` answer), parsed without
 * recursion so that a session thousands of entries deep parses too. A node whose entry is invalid
 * is dropped and its children are lifted to its parent; only a value that is not an array fails.
 */
export const SessionTreeSchema: z.ZodType<SessionTreeNode[]> = z.unknown().transform((value, ctx) => {
  const forest = parseForest(value);
  if (forest) return forest;
  ctx.addIssue({ code: 'custom', message: 'expected an array of session tree nodes' });
  return z.NEVER;
});

/**
 * One {@link SessionTreeNode} and its subtree, parsed without recursion as {@link SessionTreeSchema}
 * parses a forest (below it, invalid nodes are dropped the same way). Fails when the node's own
 * entry is invalid.
 */
export const SessionTreeNodeSchema: z.ZodType<SessionTreeNode> = z.unknown().transform((value, ctx) => {
  const entry = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['entry'] : undefined;
  const [node] = SessionEntrySchema.safeParse(entry).success ? (parseForest([value]) ?? []) : [];
  if (node) return node;
  ctx.addIssue({ code: 'custom', message: 'expected a session tree node with a valid entry' });
  return z.NEVER;
});

/** Entries, keeping the valid ones: pi sends whatever its file held, so one odd line must not lose the rest. */
const EntryListSchema = z.array(z.unknown()).transform((values) =>
  values.flatMap((value) => {
    const entry = SessionEntrySchema.safeParse(value);
    return entry.success ? [entry.data] : [];
  }),
);

/** Which entry is the session's current position: the parent of the next entry (`null`: before the first). */
const LeafIdSchema = z.string().nullable().catch(null);

/** The data of a `get_entries` answer (pi 1.x, omp 18.3): every entry in file order, and the leaf. */
export const SessionEntriesDataSchema = z.looseObject({ entries: EntryListSchema, leafId: LeafIdSchema });
/** What `get_entries` answers: see {@link SessionEntriesDataSchema}. */
export type SessionEntriesData = z.infer<typeof SessionEntriesDataSchema>;

/** The data of a `get_tree` answer (pi 1.x, omp 18.3): the entries as a forest, and the leaf. */
export const SessionTreeDataSchema = z.looseObject({ tree: SessionTreeSchema, leafId: LeafIdSchema });
/** What `get_tree` answers: see {@link SessionTreeDataSchema}. */
export type SessionTreeData = z.infer<typeof SessionTreeDataSchema>;
