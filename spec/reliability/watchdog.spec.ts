/**
 * The watchdog script (src/transport/watchdog.mjs) and its host side (watchdog.ts), on plain
 * `sh`/`sleep` processes: what it kills when its stdin ends, what it leaves alone, and that an
 * idle host retires it. spec/reliability/hostDeath.e2e.spec.ts proves the whole thing on real pi.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { descendantsOf, identityOf, isRunning, killAll, type ProcessIdentity } from '../../src/transport/processTree.js';
import { unwatchPiGroup, watchdogScriptPath, watchPiGroup } from '../../src/transport/watchdog.js';
import { waitFor } from '../helpers/realPi.js';

const MARKER = 'PIDRIVER_TREE_ID';
const started: ProcessIdentity[] = [];

afterEach(async () => {
  const all = started.splice(0).flatMap((identity) => [identity, ...descendantsOf(identity.pid)]);
  killAll(all);
  await waitFor(() => !all.some(isRunning));
});

/** `sh -c 'sleep 300 & wait'` in its own process group; resolves once the sleep runs. */
async function group(marker?: string): Promise<ProcessIdentity[]> {
  const env = { ...process.env };
  delete env[MARKER];
  if (marker !== undefined) env[MARKER] = marker;
  const sh = spawn('sh', ['-c', 'sleep 300 & wait'], { detached: true, stdio: 'ignore', env });
  sh.unref();
  const leader = await waitForIdentity(sh.pid!);
  started.push(leader);
  expect(await waitFor(() => descendantsOf(leader.pid).length > 0)).toBe(true);
  return [leader, ...descendantsOf(leader.pid)];
}

async function waitForIdentity(pid: number): Promise<ProcessIdentity> {
  await waitFor(() => identityOf(pid) !== undefined);
  return identityOf(pid)!;
}

/** The watchdog script for `prefix`, with an exit promise. */
function watchdog(prefix: string): { child: ChildProcess; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [watchdogScriptPath(), MARKER, prefix], { detached: true, stdio: ['pipe', 'ignore', 'inherit'] });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const identity = identityOf(child.pid!); // forked already: alive, or a zombie until reaped
  if (identity) started.push(identity);
  return { child, exit };
}

const prefix = () => `${randomUUID()}/`;
const running = (identities: readonly ProcessIdentity[]) => identities.filter(isRunning).map((identity) => identity.pid);

describe('watchdog.mjs', () => {
  it('at EOF kills every process carrying its marker prefix, and the watched groups still led by the same process', async () => {
    const mine = prefix();
    const marked = await group(`${mine}${randomUUID()}`);
    const otherHost = await group(`${prefix()}${randomUUID()}`);
    const watchedGroup = await group();
    const reusedPid = await group();
    const { child, exit } = watchdog(mine);
    child.stdin!.write(`+${watchedGroup[0]!.pid} ${watchedGroup[0]!.startTime}\n`);
    child.stdin!.write(`+${reusedPid[0]!.pid} 1\n`); // not that process any more
    child.stdin!.end();
    expect(await exit).toBe(0);
    expect(await waitFor(() => running([...marked, ...watchedGroup]).length === 0)).toBe(true);
    expect(running([...otherHost, ...reusedPid])).toHaveLength(otherHost.length + reusedPid.length);
  });

  it('forgets a group on `-pid`, and after `bye` exits at EOF without killing anything', async () => {
    const mine = prefix();
    const marked = await group(`${mine}${randomUUID()}`);
    const exited = await group();
    const { child, exit } = watchdog(mine);
    child.stdin!.write(`+${exited[0]!.pid} ${exited[0]!.startTime}\n-${exited[0]!.pid}\nbye\n`);
    child.stdin!.end();
    expect(await exit).toBe(0);
    expect(running([...marked, ...exited])).toHaveLength(marked.length + exited.length);
  });

  it('refuses to run without a marker prefix (it would match every host)', async () => {
    const { exit } = watchdog('');
    expect(await exit).toBe(2);
  });
});

describe('watchdog.ts (host side)', () => {
  it('starts one watchdog in its own session and process group, and retires it once nothing is left to guard', async () => {
    const watchdogs = () =>
      descendantsOf(process.pid).filter(({ pid }) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(watchdogScriptPath());
        } catch {
          return false;
        }
      });
    const pis = [await group(), await group()];
    for (const [leader] of pis) watchPiGroup(leader!.pid);
    expect(watchdogs()).toHaveLength(1);
    const [guard] = watchdogs();
    started.push(guard!);
    // stat fields after the command: state ppid pgrp session
    const [, ppid, pgrp, session] = readFileSync(`/proc/${guard!.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    expect(Number(ppid)).toBe(process.pid);
    expect({ pgrp: Number(pgrp), session: Number(session) }).toEqual({ pgrp: guard!.pid, session: guard!.pid });

    unwatchPiGroup(pis[0]![0]!.pid);
    // Longer than the retirement delay (5 s): the other group is still watched, so it stays.
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    expect(isRunning(guard!)).toBe(true);
    unwatchPiGroup(pis[1]![0]!.pid);
    expect(await waitFor(() => !isRunning(guard!), 30_000)).toBe(true);
    // It said goodbye rather than reaping: the groups it no longer watched are alive.
    expect(running(pis.flat())).toHaveLength(pis.flat().length);
  });
});
