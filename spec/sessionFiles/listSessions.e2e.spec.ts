/**
 * End-to-end: sessions the real pi 0.73.1 CLI saved (against the bundled fake LLM on 127.0.0.1),
 * read back from their files with listSessions, readSessionEntries and sessionTree, with no pi
 * running. Two cwds, a tool call, a session name, and a fork (pi 0.73 forks into a new file that
 * keeps the ids of the entries it copies, so the two files together form one branched tree).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AgentMessage } from '../../src/protocol/frames.js';
import type { SessionEntry, SessionTreeNode } from '../../src/protocol/sessionEntries.js';
import { sessionTree } from '../../src/protocol/sessionTree.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { listSessions } from '../../src/sessionFiles/listSessions.js';
import { readSessionEntries } from '../../src/sessionFiles/readSessionEntries.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';

let env: FakePiEnv;
const sessions: PiSession[] = [];

beforeAll(async () => {
  env = await startFakePiEnv();
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

afterAll(async () => {
  await env.close();
});

/** The text of a message: a string content, or its text blocks joined. */
function textOf(message: unknown): string {
  const { content } = message as AgentMessage;
  if (typeof content === 'string') return content;
  return (content ?? []).flatMap((block) => (block.type === 'text' && typeof block['text'] === 'string' ? [block['text']] : [])).join('');
}

/** The entries from a root to the entry with this id. */
function pathTo(entries: readonly SessionEntry[], leafId: string | null): SessionEntry[] {
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const path: SessionEntry[] = [];
  for (let entry = leafId === null ? undefined : byId.get(leafId); entry; entry = entry.parentId === null ? undefined : byId.get(entry.parentId))
    path.unshift(entry);
  return path;
}

/** A node found by its entry's id, without recursion. */
function findNode(roots: readonly SessionTreeNode[], id: string): SessionTreeNode | undefined {
  const stack = [...roots];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.entry.id === id) return node;
    stack.push(...node.children);
  }
  return undefined;
}

describe('session files written by the real pi CLI', () => {
  it('lists them, reads their entries and rebuilds the tree of a fork', { timeout: 180_000 }, async () => {
    const client = new PiClient({ config: env.config.with({ session: true }) });
    const cwdA = env.cwd;
    const cwdB = join(env.cwd, 'project-b');
    await mkdir(cwdB);

    // Session A in cwdA: two prompts (the second calls a tool), a name; then a fork before its second prompt.
    const a = await client.start({ cwd: cwdA, approve: 'none', task: 'scenario:text [[text:first answer]]' });
    sessions.push(a);
    await a.initialRun;
    await a.prompt('scenario:tool-bash [[cmd:echo hi]]');
    await a.command('set_session_name', { name: 'alpha' });
    const said = await a.getMessages();
    const stateA = await a.getState();
    const pathA = stateA.sessionFile!;
    const idA = stateA.sessionId!;
    const { messages: forkable } = (await a.command('get_fork_messages')) as { messages: { entryId: string; text: string }[] };
    expect(forkable.map((message) => message.text)).toEqual(['scenario:text [[text:first answer]]', 'scenario:tool-bash [[cmd:echo hi]]']);
    await expect(a.command('fork', { entryId: forkable[1]!.entryId })).resolves.toMatchObject({ cancelled: false });
    await a.prompt('scenario:text [[text:forked answer]]');
    const stateC = await a.getState();
    const pathC = stateC.sessionFile!;
    const idC = stateC.sessionId!;
    expect(idC).not.toBe(idA);
    await a.close();

    // Session B in cwdB, after A: the newest.
    const b = await client.start({ cwd: cwdB, approve: 'none', task: 'scenario:text [[text:b answer]]' });
    sessions.push(b);
    await b.initialRun;
    const idB = (await b.getState()).sessionId!;
    await b.close();

    // Listed from the files: newest first, as pi reports them.
    const listed = await listSessions({ agentDir: env.agentDir });
    expect(listed.map((info) => info.id)).toEqual([idB, idC, idA]);
    const [infoB, infoC, infoA] = listed;
    expect(infoA).toMatchObject({ path: pathA, cwd: cwdA, firstMessage: 'scenario:text [[text:first answer]]', messageCount: 6, name: 'alpha' });
    expect(infoA).not.toHaveProperty('parentSession');
    expect(infoC).toMatchObject({ path: pathC, cwd: cwdA, firstMessage: 'scenario:text [[text:first answer]]', messageCount: 4, parentSession: pathA });
    expect(infoC).not.toHaveProperty('name');
    expect(infoB).toMatchObject({ cwd: cwdB, firstMessage: 'scenario:text [[text:b answer]]', messageCount: 2 });
    for (const info of listed) expect(info.updatedAt.getTime()).toBeGreaterThanOrEqual(info.createdAt.getTime());
    expect(infoB!.createdAt.getTime()).toBeGreaterThan(infoA!.updatedAt.getTime());

    // The cwd filter.
    expect((await listSessions({ agentDir: env.agentDir, cwd: cwdB })).map((info) => info.id)).toEqual([idB]);
    expect((await listSessions({ agentDir: env.agentDir, cwd: cwdA })).map((info) => info.id)).toEqual([idC, idA]);
    expect(await listSessions({ agentDir: env.agentDir, cwd: env.home })).toEqual([]);

    // A's entries: the header, pi's opening entries, what was said, the name last (the leaf).
    const fileA = await readSessionEntries(pathA);
    expect(fileA.header).toMatchObject({ type: 'session', version: 3, id: idA, cwd: cwdA });
    expect(fileA.entries.map((entry) => entry.type)).toEqual([
      'model_change',
      'thinking_level_change',
      'message',
      'message',
      'message',
      'message',
      'message',
      'message',
      'session_info',
    ]);
    expect(fileA.leafId).toBe(fileA.entries.at(-1)!.id);
    const messagesA = pathTo(fileA.entries, fileA.leafId).flatMap((entry) => (entry.type === 'message' ? [entry['message']] : []));
    expect(messagesA).toEqual(said);
    expect(messagesA.map((message) => [(message as AgentMessage).role, textOf(message)])).toEqual([
      ['user', 'scenario:text [[text:first answer]]'],
      ['assistant', 'first answer'],
      ['user', 'scenario:tool-bash [[cmd:echo hi]]'],
      ['assistant', 'Running it.'],
      ['toolResult', 'hi\n'],
      ['assistant', 'Tool said: ["hi\\n"]'],
    ]);
    const treeA = sessionTree(fileA.entries);
    expect(treeA).toHaveLength(1);
    expect(pathTo(fileA.entries, fileA.leafId)).toHaveLength(fileA.entries.length); // one line of descent

    // The fork: a new file with A's header fields but its own id, A's first exchange (same ids), then the forked exchange.
    const fileC = await readSessionEntries(pathC);
    expect(fileC.header).toMatchObject({ id: idC, cwd: cwdA, parentSession: pathA });
    const shared = fileA.entries.slice(0, 4);
    expect(fileC.entries.slice(0, 4)).toEqual(shared);
    expect(fileC.entries.slice(4).map((entry) => [entry.type, textOf(entry['message'])])).toEqual([
      ['message', 'scenario:text [[text:forked answer]]'],
      ['message', 'forked answer'],
    ]);

    // Both files together: one tree that branches after the first answer, the older branch first.
    const family = sessionTree([...fileA.entries, ...fileC.entries.slice(4)]);
    expect(family).toHaveLength(1);
    const branchPoint = findNode(family, shared[3]!.id)!;
    expect(branchPoint.children.map((child) => textOf(child.entry['message']))).toEqual([
      'scenario:tool-bash [[cmd:echo hi]]',
      'scenario:text [[text:forked answer]]',
    ]);
    expect(findNode(family, fileC.leafId!)!.children).toEqual([]);
  });
});
