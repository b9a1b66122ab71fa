/** The signals {@link closeOnExit} handles. */
export type ExitSignal = 'SIGINT' | 'SIGTERM';

/** The process events {@link closeOnExit} listens to. */
export type ExitEvent = ExitSignal | 'beforeExit';

/**
 * The part of Node's `process` that {@link closeOnExit} uses; tests pass a fake (an
 * `EventEmitter` with `pid` and a recording `kill`).
 */
export interface ProcessLike {
  readonly pid: number;
  on(event: ExitEvent, listener: (arg: unknown) => void): unknown;
  off(event: ExitEvent, listener: (arg: unknown) => void): unknown;
  listenerCount(event: ExitEvent): number;
  kill(pid: number, signal?: string | number): unknown;
}

/** What {@link closeOnExit} stops: anything with `stopAll`, such as a `PiSessionManager`. */
export interface StopAllTarget {
  stopAll(options?: { readonly timeoutMs?: number }): Promise<unknown>;
}

/** Options of {@link closeOnExit}. */
export interface CloseOnExitOptions {
  /** The process to hook; default the global `process`. */
  readonly process?: ProcessLike;
  /** Passed to `stopAll`: how long each session may take to close. */
  readonly timeoutMs?: number;
  /** Signals to handle; default `['SIGINT', 'SIGTERM']`. */
  readonly signals?: readonly ExitSignal[];
}

/**
 * Makes sure no session outlives the app: on `SIGINT`/`SIGTERM` (or `beforeExit`, when the event
 * loop runs dry) it calls `target.stopAll()`.
 *
 * On the first event it unhooks itself. After a signal, once every session is stopped, it
 * re-raises the signal with `process.kill(process.pid, signal)` if no other listener for that
 * signal is left, so the process ends exactly as Node ends it by default (killed by the signal;
 * exit code 130 for SIGINT in a shell). If the app has its own listener for the signal, that
 * listener decides what happens and nothing is re-raised. A second Ctrl-C while sessions are
 * closing finds no listener of ours and kills the app at once. After `beforeExit` nothing is
 * re-raised: the loop runs dry again once the sessions are closed, and Node exits.
 *
 * ## Example
 * ```ts
 * const manager = new PiSessionManager({ factory: (o) => client.start(o) });
 * const unhook = closeOnExit(manager, { timeoutMs: 5_000 });
 * // … later, to take the hooks off again:
 * unhook();
 * ```
 *
 * @param target What to stop (a `PiSessionManager`).
 * @param options The process to hook, the close bound, and the signals.
 * @return A function that removes the hooks (idempotent).
 */
export function closeOnExit(target: StopAllTarget, options: CloseOnExitOptions = {}): () => void {
  const proc: ProcessLike = options.process ?? process;
  const signals = options.signals ?? (['SIGINT', 'SIGTERM'] as const);
  const stopOptions = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const listeners = new Map<ExitEvent, (arg: unknown) => void>();
  let hooked = true;

  const unhook = (): void => {
    if (!hooked) return;
    hooked = false;
    for (const [event, listener] of listeners) proc.off(event, listener);
    listeners.clear();
  };
  const stopAll = (): Promise<void> =>
    target.stopAll(stopOptions).then(
      () => undefined,
      () => undefined, // a manager's stopAll never rejects; any other target must not keep us from exiting
    );

  for (const signal of signals) {
    listeners.set(signal, () => {
      unhook();
      void stopAll().then(() => {
        if (proc.listenerCount(signal) === 0) proc.kill(proc.pid, signal);
      });
    });
  }
  listeners.set('beforeExit', () => {
    unhook();
    void stopAll();
  });
  for (const [event, listener] of listeners) proc.on(event, listener);
  return unhook;
}
