import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { descendantsOf, isAlive, killAll, trySignal } from '../../src/transport/processTree.js';
import { waitFor } from '../helpers/realPi.js';

describe('processTree (Linux /proc)', () => {
  it('finds grandchildren, kills them, and tells a dead or reused pid from a live one', async () => {
    // sh → sleep (a grandchild of this process once sh has forked it)
    const parent = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore', detached: true });
    const parentPid = parent.pid as number;
    expect(await waitFor(() => descendantsOf(parentPid).length > 0)).toBe(true);
    const tree = descendantsOf(process.pid);
    const sleep = descendantsOf(parentPid)[0];
    expect(sleep).toBeDefined();
    expect(tree.map((identity) => identity.pid)).toEqual(expect.arrayContaining([parentPid, sleep!.pid]));
    expect(isAlive(sleep!)).toBe(true);
    expect(isAlive({ pid: sleep!.pid, startTime: 'not-its-start-time' })).toBe(false);

    const exited = new Promise((resolve) => parent.once('exit', resolve));
    killAll([sleep!]);
    expect(await waitFor(() => !isAlive(sleep!))).toBe(true);
    await exited; // sh's wait returns once sleep is gone
    expect(trySignal(2 ** 22 + 12345, 'SIGTERM')).toBe(false); // no such process: no throw
  });

  it('returns nothing for a pid with no children', () => {
    expect(descendantsOf(2 ** 22 + 54321)).toEqual([]);
  });
});
