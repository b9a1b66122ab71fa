import { resolve } from 'node:path';
import type { SessionEntry, SessionHeader } from '../protocol/sessionEntries.js';
import type { SessionInfo } from './SessionInfo.js';
import { readSessionFile } from './readSessionFile.js';

/**
 * Summarises one session file as pi's session list does (`SessionManager.list`, the same in pi
 * 0.73 and 1.x), reading it once, line by line, keeping only counters:
 * - `messageCount`: every `message` entry, of any role (tool results too) and on every branch;
 * - `firstMessage`: the text of the first user message that has any (a string content, or its
 *   text blocks joined by spaces);
 * - `updatedAt`: the latest user or assistant message (its `timestamp` in ms, else the entry's),
 *   else the header's `timestamp`, else the file's mtime; `createdAt`: the header's `timestamp`
 *   (the file's mtime when that is unreadable);
 * - `name`: the latest `session_info` entry's name, trimmed (an empty one clears it).
 *
 * @param path The file.
 * @param cwd Only a session whose header `cwd`, resolved, is this (already resolved) path; pi's
 * rule: an empty header `cwd` never matches.
 * @param signal Stops reading: the promise rejects with `signal.reason`.
 * @return The summary; `undefined` when the file is not a session or is another cwd's.
 * @throws The file system's error when the file cannot be read.
 */
export async function sessionInfoOf(path: string, cwd: string | undefined, signal?: AbortSignal): Promise<SessionInfo | undefined> {
  let header: SessionHeader | undefined;
  let modified = new Date(0);
  let messageCount = 0;
  let firstMessage: string | undefined;
  let name: string | undefined;
  let lastActivity = 0;
  for await (const item of readSessionFile(path, signal)) {
    if ('header' in item) {
      if (cwd !== undefined && (item.header.cwd === '' || resolve(item.header.cwd) !== cwd)) return undefined;
      header = item.header;
      modified = item.modified;
      continue;
    }
    const { entry } = item;
    if (entry.type === 'session_info') name = nameOf(entry);
    if (entry.type !== 'message') continue;
    messageCount++;
    const message = chatMessageOf(entry);
    if (message === undefined) continue;
    lastActivity = Math.max(lastActivity, message.at);
    if (firstMessage === undefined && message.role === 'user' && message.text) firstMessage = message.text;
  }
  if (header === undefined) return undefined;
  const created = Date.parse(header.timestamp);
  const createdAt = Number.isNaN(created) ? modified : new Date(created);
  const updatedAt = lastActivity > 0 ? new Date(lastActivity) : createdAt;
  return {
    id: header.id,
    path,
    cwd: header.cwd,
    createdAt,
    updatedAt,
    messageCount,
    ...(firstMessage !== undefined ? { firstMessage } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(header.parentSession !== undefined ? { parentSession: header.parentSession } : {}),
  };
}

/** A `session_info` entry's name, trimmed; `undefined` when it clears the name. */
function nameOf(entry: SessionEntry): string | undefined {
  const name = entry['name'];
  return typeof name === 'string' && name.trim() ? name.trim() : undefined;
}

/** A user or assistant message with content: its role, its text, when it was sent (ms; 0 when unknown). */
function chatMessageOf(entry: SessionEntry): { readonly role: string; readonly text: string; readonly at: number } | undefined {
  const message = entry['message'];
  if (typeof message !== 'object' || message === null || !('content' in message)) return undefined;
  const { role, content, timestamp } = message as Record<string, unknown>;
  if (role !== 'user' && role !== 'assistant') return undefined;
  const at = typeof timestamp === 'number' ? timestamp : Date.parse(entry.timestamp);
  return { role, text: textOf(content), at: Number.isNaN(at) ? 0 : at };
}

/** A message's text: a string content, or the `text` of its text blocks joined by spaces. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((block): block is { type: 'text'; text: string } => {
      const fields = block as Record<string, unknown> | null;
      return typeof fields === 'object' && fields !== null && fields['type'] === 'text' && typeof fields['text'] === 'string';
    })
    .map((block) => block.text)
    .join(' ');
}
