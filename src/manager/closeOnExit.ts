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
 * Every hook on one process shares a single listener per event, added with the first hook that
 * needs it and removed with the last, so any number of managers adds one listener (and no
 * `MaxListenersExceededWarning`). A `PiSessionManager`'s `dispose()` removes the hooks made with
 * its `closeOnExit()`.
 *
 * On the first event every hook for that event unhooks itself. After a signal, once the sessions
 * of every hooked target are stopped, it re-raises the signal with `process.kill(process.pid,
 * signal)` if no other listener for that signal is left, so the process ends exactly as Node ends
 * it by default (killed by the signal; exit code 130 for SIGINT in a shell). If the app has its
 * own listener for the signal, that listener decides what happens and nothing is re-raised. A
 * second Ctrl-C while sessions are closing finds no listener of ours and kills the app at once.
 * After `beforeExit` nothing is re-raised: the loop runs dry again once the sessions are closed,
 * and Node exits.
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
  const hooks = hooksOf(proc);
  const hook: Hook = {
    events: new Set<ExitEvent>([...signals, 'beforeExit']),
    stop: () =>
      target.stopAll(stopOptions).then(
        () => undefined,
        () => undefined, // a manager's stopAll never rejects; any other target must not keep us from exiting
      ),
  };
  hooks.add(hook);
  return () => hooks.delete(hook);
}

interface Hook {
  readonly events: ReadonlySet<ExitEvent>;
  readonly stop: () => Promise<void>;
}

/** The hooks on one process, and the one listener per event they share. */
class ProcessHooks {
  readonly #proc: ProcessLike;
  readonly #hooks = new Set<Hook>();
  readonly #listeners = new Map<ExitEvent, (arg: unknown) => void>();

  constructor(proc: ProcessLike) {
    this.#proc = proc;
  }

  add(hook: Hook): void {
    this.#hooks.add(hook);
    for (const event of hook.events) this.#listen(event);
  }

  delete(hook: Hook): void {
    if (!this.#hooks.delete(hook)) return;
    for (const event of hook.events) {
      if (![...this.#hooks].some((other) => other.events.has(event))) this.#unlisten(event);
    }
  }

  #listen(event: ExitEvent): void {
    if (this.#listeners.has(event)) return;
    const listener = (): void => this.#fire(event);
    this.#listeners.set(event, listener);
    this.#proc.on(event, listener);
  }

  #unlisten(event: ExitEvent): void {
    const listener = this.#listeners.get(event);
    if (!listener) return;
    this.#listeners.delete(event);
    this.#proc.off(event, listener);
  }

  #fire(event: ExitEvent): void {
    const fired = [...this.#hooks].filter((hook) => hook.events.has(event));
    for (const hook of fired) this.delete(hook);
    const stopped = Promise.all(fired.map((hook) => hook.stop()));
    if (event === 'beforeExit') return;
    void stopped.then(() => {
      if (this.#proc.listenerCount(event) === 0) this.#proc.kill(this.#proc.pid, event);
    });
  }
}

const processHooks = new WeakMap<ProcessLike, ProcessHooks>();

function hooksOf(proc: ProcessLike): ProcessHooks {
  let hooks = processHooks.get(proc);
  if (!hooks) {
    hooks = new ProcessHooks(proc);
    processHooks.set(proc, hooks);
  }
  return hooks;
}
