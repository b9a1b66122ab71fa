/**
 * The host side of pidriver's watchdog (`watchdog.mjs`): one small Node process per host process,
 * started with its first pi, that reaps this host's pi trees if the host dies without running its
 * `exit` hook (SIGINT or SIGTERM under Node's default handling, which skips `exit` listeners;
 * SIGKILL; a crash). pidriver installs no signal handler: the app keeps its own.
 *
 * - Every tree marker this process hands out ({@link newTreeId}) starts with one random prefix.
 *   The watchdog knows the prefix, and when its stdin hits EOF it kills every process carrying it:
 *   pi and whatever pi's bash tool started detached, even once reparented to init.
 * - Each pi's pid is sent when it starts (`+pid startTime`) and when it exits (`-pid`), so the
 *   watchdog also kills pi's process group (the only handle on a launcher's tree, which has no marker).
 * - The watchdog runs detached (its own session and process group), so a Ctrl-C to the host's
 *   group reaches only the host. Its stdin is a pipe written only by this process (the fd is
 *   close-on-exec: no child inherits it), so the pipe ends exactly when this process is gone,
 *   however it ended.
 * - Neither the child nor the pipe is ref'd: the watchdog never keeps this process alive. About a
 *   second after the last pi exited and nothing with this host's marker is left, the host says
 *   `bye` and the watchdog exits; the next pi starts a new one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identityOf, processesWithEnvPrefix } from './processTree.js';

/** The environment variable that marks a pi tree (SubprocessTransport sets it on pi). */
const TREE_MARKER_ENV = 'PIDRIVER_TREE_ID';
/** Every tree marker value of this process starts with this. */
const HOST_PREFIX = `${randomUUID()}/`;
/** How long the watchdog outlives the last pi of an idle host (sessions started one after another share it). */
const RETIRE_AFTER_MS = 5_000;
// Captured now, so fake timers installed by a test can't stall the retirement.
const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout } = globalThis;

interface Watchdog {
  readonly child: ChildProcess;
  readonly stdin: Socket;
}

let running: Watchdog | undefined;
/** Live pi pids → their start time (`''` without `/proc`). */
const watched = new Map<number, string>();
let retireTimer: ReturnType<typeof setTimeout> | undefined;
let warned = false;

/** A fresh value for a pi tree's marker variable, carrying this process's prefix. */
export function newTreeId(): string {
  return `${HOST_PREFIX}${randomUUID()}`;
}

/**
 * Puts a just-started pi's process group under the watchdog (starting the watchdog if none runs).
 * Never throws: without a watchdog, `close()` and the `exit` hook still reap.
 */
export function watchPiGroup(pid: number): void {
  if (process.platform === 'win32') return;
  cancelRetire();
  const startTime = identityOf(pid)?.startTime ?? '';
  watched.set(pid, startTime);
  if (running) send(running, `+${pid} ${startTime}\n`);
  else startWatchdog(); // sends every watched pid, this one included
}

/** pi exited: its pid may be reused, so the watchdog must forget it. */
export function unwatchPiGroup(pid: number): void {
  if (!watched.delete(pid)) return;
  if (running) send(running, `-${pid}\n`);
  if (watched.size === 0) scheduleRetire();
}

/**
 * The watchdog script: `dist/transport/watchdog.js` next to the bundle, or
 * `src/transport/watchdog.mjs` from a source checkout (plain JavaScript either way).
 */
export function watchdogScriptPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, 'transport', 'watchdog.js'), // dist/index.js, dist/chunk-*.js
    join(here, 'watchdog.mjs'), // src/transport/watchdog.ts
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`pidriver's watchdog script is missing (looked in ${candidates.join(', ')})`);
  return found;
}

function startWatchdog(): void {
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [watchdogScriptPath(), TREE_MARKER_ENV, HOST_PREFIX], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      cwd: '/',
      env: watchdogEnv(),
      windowsHide: true,
    });
  } catch (error) {
    warn(error);
    return;
  }
  const stdin = child.stdin as Socket | null;
  if (!stdin) return;
  const watchdog: Watchdog = { child, stdin };
  const gone = (): void => {
    if (running === watchdog) running = undefined; // the next pi starts another
  };
  child.once('error', (error) => {
    gone();
    warn(error);
  });
  child.once('exit', gone);
  stdin.on('error', gone); // EPIPE: it died
  child.unref();
  stdin.unref();
  running = watchdog;
  send(watchdog, [...watched].map(([pid, startTime]) => `+${pid} ${startTime}\n`).join(''));
}

/**
 * The parent's environment without `NODE_OPTIONS` (a loader such as tsx would slow the start and
 * is not needed by a plain script), and without a tree marker this process inherited (it runs
 * inside a pi tree of another host): when that host's watchdog kills this process, this watchdog
 * must survive it to reap this process's pi trees. Under Electron, its binary runs the script as Node.
 */
function watchdogEnv(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _nodeOptions, [TREE_MARKER_ENV]: _outerTree, ...env } = process.env;
  return process.versions['electron'] === undefined ? env : { ...env, ELECTRON_RUN_AS_NODE: '1' };
}

function send(watchdog: Watchdog, text: string): void {
  if (text !== '' && !watchdog.stdin.destroyed) watchdog.stdin.write(text);
}

function scheduleRetire(): void {
  if (retireTimer !== undefined || !running) return;
  retireTimer = realSetTimeout(retire, RETIRE_AFTER_MS);
  retireTimer.unref();
}

function cancelRetire(): void {
  if (retireTimer === undefined) return;
  realClearTimeout(retireTimer);
  retireTimer = undefined;
}

function retire(): void {
  retireTimer = undefined;
  const watchdog = running;
  if (!watchdog || watched.size > 0) return;
  // close() may still be reaping a tree, or a pi that died on its own left children that nobody
  // closed: keep guarding them.
  if (processesWithEnvPrefix(TREE_MARKER_ENV, HOST_PREFIX).length > 0) {
    scheduleRetire();
    return;
  }
  running = undefined;
  watchdog.stdin.end('bye\n');
}

function warn(error: unknown): void {
  if (warned) return;
  warned = true;
  process.emitWarning(
    `pidriver could not start its watchdog (${error instanceof Error ? error.message : String(error)}): ` +
      'pi is still stopped by close() and when this process exits, but not if it is killed by a signal',
    { code: 'PIDRIVER_WATCHDOG' },
  );
}
