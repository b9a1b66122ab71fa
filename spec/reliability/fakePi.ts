/**
 * Helpers for the reliability specs: start sessions on `spec/fixtures/fake-pi.mjs`, remember
 * every process they started, collect unhandled rejections, and prove nothing was left behind.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import type { PiConfigInput } from '../../src/config/PiConfig.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient, type PiClientOptions, type StartOptions } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { pidsMatching, waitFor, waitForExit } from '../helpers/realPi.js';

export const FAKE_PI = fileURLToPath(new URL('../fixtures/fake-pi.mjs', import.meta.url));
export const CHUNKED_WRITER = fileURLToPath(new URL('../fixtures/chunked-writer.mjs', import.meta.url));

let scratchRoot: string | undefined;

/** A scratch working directory for fake sessions; all of a spec file's are removed after it. */
export const scratchCwd = (): string => {
  scratchRoot ??= mkdtempSync(join(tmpdir(), 'pidriver-rel-'));
  return mkdtempSync(join(scratchRoot, 'cwd-'));
};

// Registered on the spec file that imports this module (vitest evaluates it once per file).
afterAll(() => {
  if (scratchRoot) rmSync(scratchRoot, { recursive: true, force: true });
  scratchRoot = undefined;
});

/**
 * A config that runs the fake pi in `mode`. Every process gets a unique `--fake-run=<uuid>`
 * argv marker, so a test can find (and prove gone) even a process whose start failed.
 */
export function fakeConfig(mode: string, overrides: PiConfigInput & { env?: Record<string, string> } = {}): { config: PiConfigInput; marker: string } {
  const marker = `--fake-run=${randomUUID()}`;
  const { env, ...rest } = overrides;
  return {
    marker,
    config: {
      binary: FAKE_PI,
      terminateTimeoutMs: 2_000,
      requestTimeoutMs: 20_000,
      startTimeoutMs: 20_000,
      ...rest,
      extraArgs: [marker, ...(rest.extraArgs ?? [])],
      extraEnv: { FAKE_PI_MODE: mode, ...env, ...rest.extraEnv },
    },
  };
}

/** What a test started: sessions to close, pids and argv markers to prove gone. */
export class Tracker {
  readonly sessions: PiSession[] = [];
  readonly pids: number[] = [];
  readonly markers: string[] = [];

  /** Starts a session on the fake pi in `mode`. */
  async start(
    mode: string,
    overrides: PiConfigInput & { env?: Record<string, string> } = {},
    options: { client?: Omit<PiClientOptions, 'config'>; start?: StartOptions } = {},
  ): Promise<PiSession> {
    const { config, marker } = fakeConfig(mode, overrides);
    this.markers.push(marker);
    const client = new PiClient({ ...options.client, config });
    const session = await client.start({ cwd: scratchCwd(), approve: 'none', ...options.start });
    this.sessions.push(session);
    if (session.pid !== undefined) this.pids.push(session.pid);
    return session;
  }

  /** Like {@link start}, for starts that must fail: resolves with the error. */
  async startFailing(mode: string, overrides: PiConfigInput & { env?: Record<string, string> } = {}): Promise<unknown> {
    return this.start(mode, overrides).then(
      () => new Error('start() unexpectedly succeeded'),
      (error: unknown) => error,
    );
  }

  /** Closes everything and asserts (bounded, by pid and by argv marker) that no process is left. */
  async cleanUp(): Promise<{ leftPids: number[]; leftMarkers: string[] }> {
    await Promise.all(this.sessions.splice(0).map((session) => session.close()));
    const exited = await Promise.all(this.pids.map(async (pid) => ((await waitForExit(pid)) ? undefined : pid)));
    const markers = this.markers.splice(0);
    await waitFor(() => markers.every((marker) => pidsMatching(marker).length === 0));
    const leftPids = exited.filter((pid): pid is number => pid !== undefined);
    this.pids.length = 0;
    return { leftPids, leftMarkers: markers.filter((marker) => pidsMatching(marker).length > 0) };
  }
}

/**
 * Collects everything `events$` emits and how it ended. `done` is bounded: it rejects if
 * `events$` neither errors nor completes within `ms`, so a hang fails fast and says so.
 */
export function record(session: PiSession, ms = 20_000): { readonly events: PiEvent[]; readonly done: Promise<{ error: unknown; completed: boolean }> } {
  const events: PiEvent[] = [];
  const done = new Promise<{ error: unknown; completed: boolean }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`events$ neither errored nor completed within ${ms} ms`)), ms);
    const settle = (outcome: { error: unknown; completed: boolean }) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    session.events$.subscribe({
      next: (event) => events.push(event),
      error: (error: unknown) => settle({ error, completed: false }),
      complete: () => settle({ error: undefined, completed: true }),
    });
  });
  done.catch(() => undefined); // a test that never awaits it must not leave a rejection behind
  return { events, done };
}

/**
 * Replaces vitest's `unhandledRejection` / `uncaughtException` listeners with a collector for
 * the lifetime of a spec file, so a spec can assert that none happened (and an `it.fails` that
 * documents one doesn't take the whole run down).
 */
export function collectUnhandled(): { readonly seen: unknown[]; install(): void; uninstall(): void; flush(): Promise<unknown[]> } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  const onException = (error: unknown) => seen.push(error);
  let saved: { rejection: NodeJS.UnhandledRejectionListener[]; exception: NodeJS.UncaughtExceptionListener[] } | undefined;
  return {
    seen,
    install() {
      saved = { rejection: process.listeners('unhandledRejection'), exception: process.listeners('uncaughtException') };
      process.removeAllListeners('unhandledRejection');
      process.removeAllListeners('uncaughtException');
      process.on('unhandledRejection', onRejection);
      process.on('uncaughtException', onException);
    },
    uninstall() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
      for (const listener of saved?.rejection ?? []) process.on('unhandledRejection', listener);
      for (const listener of saved?.exception ?? []) process.on('uncaughtException', listener);
    },
    /** Lets pending rejections surface (Node reports them after the microtask queue drains), then takes them. */
    async flush() {
      // Rejections surface after a microtask drain; RxJS rethrows unhandled errors in a timer(0).
      for (let index = 0; index < 3; index++) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
      }
      return seen.splice(0);
    },
  };
}
