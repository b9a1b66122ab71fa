/**
 * Helpers for the security specs: set parent environment variables for a file and restore them,
 * run a bash command through a real pi session and read what the tool printed, and read a
 * process's argv and environment from /proc.
 */
import { readFileSync } from 'node:fs';
import { lastValueFrom, timeout, toArray } from 'rxjs';
import type { PiEvent } from '../../src/protocol/events.js';
import type { PiSession } from '../../src/session/PiSession.js';

/**
 * Runs one prompt; resolves with exactly that run's events (`prompt$`: a subscriber to `events$`
 * between runs would first get the previous run replayed).
 */
export function runEvents(session: PiSession, prompt: string, ms = 30_000): Promise<PiEvent[]> {
  return lastValueFrom(session.prompt$(prompt).pipe(toArray(), timeout(ms)));
}

/** Sets `vars` in `process.env`; the returned function puts back what was there before. */
export function setParentEnv(vars: Readonly<Record<string, string>>): () => void {
  const saved = Object.keys(vars).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, vars);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** Runs `command` through pi's bash tool (the fake LLM's `tool-bash` scenario); resolves with its output. */
export async function bashOutput(session: PiSession, command: string): Promise<{ output: string; events: PiEvent[] }> {
  const events = await runEvents(session, `scenario:tool-bash [[cmd:${command}]]`);
  const end = events.find((event): event is Extract<PiEvent, { type: 'tool_end' }> => event.type === 'tool_end');
  if (!end) throw new Error(`no tool_end for ${command}`);
  if (end.isError) throw new Error(`bash failed: ${end.result}`);
  return { output: end.result, events };
}

/** `env` output → name/value pairs (values without newlines, as ours are). */
export function parseEnv(output: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of output.split('\n')) {
    const equals = line.indexOf('=');
    if (equals > 0) vars.set(line.slice(0, equals), line.slice(equals + 1));
  }
  return vars;
}

/** A process's argv, from /proc. */
export function cmdlineOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((arg) => arg !== '');
}

/** A process's initial environment, from /proc. */
export function environOf(pid: number): Map<string, string> {
  const vars = new Map<string, string>();
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const equals = entry.indexOf('=');
    if (equals > 0) vars.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return vars;
}
