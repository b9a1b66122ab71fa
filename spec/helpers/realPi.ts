/**
 * Helpers for end-to-end specs that run the real pi 0.73.1 CLI against the bundled fake LLM.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstValueFrom, filter, timeout, toArray, takeWhile, type Observable } from 'rxjs';
import type { PiEvent } from '../../src/protocol/events.js';
import type { PiSession } from '../../src/session/PiSession.js';

/** True while a process with this pid exists and is not a zombie. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return existsSync(`/proc/${pid}`);
  }
}

/** Collects a session's events up to and including the next `agent_end` (bounded). */
export function eventsUntilAgentEnd(events$: Observable<PiEvent>, ms = 30_000): Promise<PiEvent[]> {
  return firstValueFrom(
    events$.pipe(
      takeWhile((event) => event.type !== 'agent_end', true),
      toArray(),
      timeout(ms),
    ),
  );
}

/** The first event of a type (bounded). */
export function nextEvent<T extends PiEvent['type']>(session: PiSession, type: T, ms = 30_000): Promise<Extract<PiEvent, { type: T }>> {
  return firstValueFrom(
    session.events$.pipe(
      filter((event): event is Extract<PiEvent, { type: T }> => event.type === type),
      timeout(ms),
    ),
  );
}

/** Polls a condition every 20 ms until it holds or `ms` pass (a bounded wait, for OS state like /proc). */
export async function waitFor(condition: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return condition();
}

/** Waits (bounded) until a pid is gone. */
export function waitForExit(pid: number, ms = 10_000): Promise<boolean> {
  return waitFor(() => !isProcessAlive(pid), ms);
}

/** Texts of the deltas of one channel, joined. */
export function joinedDeltas(events: readonly PiEvent[], channel: 'assistant' | 'thinking' = 'assistant'): string {
  return events
    .filter((event): event is Extract<PiEvent, { type: 'message_delta' }> => event.type === 'message_delta' && event.channel === channel)
    .map((event) => event.text)
    .join('');
}

/** Pids of processes whose command line contains `needle`. */
export function pidsMatching(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(needle) && isProcessAlive(pid)) pids.push(pid);
    } catch {
      // gone
    }
  }
  return pids;
}

let bashFiles = 0;

/**
 * A prompt that makes the fake LLM run pi's `bash` tool to create a fresh file in `cwd`
 * (`echo <text> > <label>-<pid>-<n>.txt`), and that file's path.
 */
export function bashFilePrompt(cwd: string, label: string, text = 'ran'): { prompt: string; file: string } {
  const name = `${label}-${process.pid}-${++bashFiles}.txt`;
  return { prompt: `scenario:tool-bash [[cmd:echo ${text} > ${name}]]`, file: join(cwd, name) };
}
