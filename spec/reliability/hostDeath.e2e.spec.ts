/**
 * No process left behind when the host dies without closing its sessions (issue 11, item 17).
 *
 * A plain script (spec/fixtures/host-with-running-tool.ts: no manager, no signal handlers) starts
 * the real pi 0.73.1 against the fake LLM and has pi's bash tool run a long `sleep`; it is then
 * ended by Ctrl-C (SIGINT to its process group, as a terminal sends it), by `kill <pid>` (SIGTERM)
 * and by SIGKILL of its whole process group. Node's default handling of those signals runs no
 * `exit` hook, so pidriver's watchdog must notice and reap: within a generous bound no process of
 * the host's tree may be left (pi, the shell, the sleep, and the watchdog itself).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PiConfigInput } from '../../src/config/PiConfig.js';
import { FAKE_MODEL, FAKE_PROVIDER } from '../../src/testing/fakeAgentDir.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { descendantsOf, identityOf, isRunning, killAll, trySignal, type ProcessIdentity } from '../../src/transport/processTree.js';
import { pidsMatching, waitFor } from '../helpers/realPi.js';

/** The repository root: the host runs there, so `--import tsx` and the `pi` binary resolve. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/host-with-running-tool.ts', import.meta.url));
/** Starting tsx, pi and a tool on a loaded 2-core machine takes seconds; this only bounds a hang. */
const REPORT_MS = 60_000;
/** How long the tree may take to disappear once the host is dead ("a few seconds", generously). */
const GONE_MS = 20_000;

interface Report {
  readonly host: number;
  readonly pi: number;
  readonly sigint: number;
  readonly sigterm: number;
  readonly tree: readonly ProcessIdentity[];
  readonly sleeping?: boolean;
  readonly closed?: boolean;
}

let env: FakePiEnv;
let runs = 0;
let host: ChildProcess | undefined;
let hostExit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });
let marker = '';
let known: ProcessIdentity[] = [];

beforeAll(async () => {
  env = await startFakePiEnv();
});

afterEach(async () => {
  // Whatever happened, kill everything this test started: the host's tree while it is still
  // attached, then the host's group, then anything remembered or carrying the sleep marker.
  const pid = host?.pid;
  const leftovers = [...known, ...(pid === undefined ? [] : descendantsOf(pid)), ...sleeps()];
  if (pid !== undefined) trySignal(-pid, 'SIGKILL');
  killAll(leftovers);
  await waitFor(() => !leftovers.some(isRunning), 10_000);
  await hostExit;
  host = undefined;
  known = [];
});

afterAll(async () => {
  await env.close();
});

/** The shell running `sleep <marker>; echo done` and the sleep itself. */
function sleeps(): ProcessIdentity[] {
  if (marker === '') return [];
  return pidsMatching(`sleep ${marker}`).flatMap((pid) => identityOf(pid) ?? []);
}

/** Starts the host script in its own process group and waits for its report line. */
async function startHost(mode: 'wait' | 'drain'): Promise<Report> {
  // A unique sleep length marks the shell and the sleep in /proc/*/cmdline.
  marker = `900.${process.pid}${++runs}`;
  const config: PiConfigInput = { provider: FAKE_PROVIDER, model: FAKE_MODEL, agentDir: env.agentDir, offline: true, extraEnv: { HOME: env.home } };
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(config), env.cwd, marker, mode], {
    cwd: ROOT,
    detached: true, // its own process group, like a program run from a shell
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  host = child;
  hostExit = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const line = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    hostExit.then(({ code, signal }) => `exit ${code} ${signal}`),
    new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), REPORT_MS)),
  ]);
  lines.close();
  if (!line.startsWith('{')) throw new Error(`the host did not report (${line}): ${stderr}`);
  const report = JSON.parse(line) as Report;
  known = [...(identityOf(report.host) ? [identityOf(report.host)!] : []), ...report.tree, ...sleeps()];
  return report;
}

/** What of `identities` (and any process carrying the sleep marker) still runs after a bounded wait. */
async function leftAfterWait(identities: readonly ProcessIdentity[]): Promise<number[]> {
  const left = () => [...new Set([...identities, ...sleeps()].filter(isRunning).map((identity) => identity.pid))];
  await waitFor(() => left().length === 0, GONE_MS);
  return left();
}

describe('no process left behind when the host dies without closing (real pi)', () => {
  it.each([
    { how: 'Ctrl-C (SIGINT to the process group)', signal: 'SIGINT', group: true },
    { how: 'kill <pid> (SIGTERM)', signal: 'SIGTERM', group: false },
    { how: 'SIGKILL of the process group', signal: 'SIGKILL', group: true },
  ] as const)(
    '$how: pi, its bash tool and the watchdog are gone within seconds',
    async ({ signal, group }) => {
      const report = await startHost('wait');
      expect(report.sleeping).toBe(true);
      // The app keeps Node's default signal handling: pidriver installed no listener.
      expect({ sigint: report.sigint, sigterm: report.sigterm }).toEqual({ sigint: 0, sigterm: 0 });
      const tree = [...known];
      expect(tree.map((identity) => identity.pid)).toContain(report.pi);
      expect(sleeps()).toHaveLength(2);

      process.kill(group ? -report.host : report.host, signal);
      // Killed by the signal, as Node does by default.
      await expect(hostExit).resolves.toEqual({ code: null, signal });
      expect(await leftAfterWait(tree)).toEqual([]);
    },
    120_000,
  );

  it('does not keep a finished script alive: it exits by itself, and so does the watchdog', async () => {
    const report = await startHost('drain');
    expect(report.closed).toBe(true);
    const exit = await Promise.race([hostExit, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 30_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await leftAfterWait(known)).toEqual([]);
  }, 120_000);
});
