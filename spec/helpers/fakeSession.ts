/**
 * Fake sessions for the manager specs: anything that satisfies the structural `ManagedSession`.
 *
 * - {@link fakeSession} wires given Observables (TestScheduler `hot()` marbles) as the streams.
 * - {@link LiveFakeSession} drives its streams from Subjects, and closes like a real `PiSession`
 *   (state `closed`, then `events$` completes), for the promise-based specs.
 */
import { BehaviorSubject, Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import type { ManagedSession, ManagedSessionState } from '../../src/manager/ManagedSession.js';
import { UsageTotals } from '../../src/usage/UsageTotals.js';

/** An event of a fake session. */
export interface FakeEvent {
  readonly type: string;
  readonly sessionId: string;
  readonly n?: number;
}

/** A settle-from-outside promise. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A `CloseResult`-shaped value. */
export const closeResult = (escalation: string) => ({ exitCode: 0, signal: null, stderrTail: '', escalation });

/** A state with defaults: idle, no open request, `inputTokens` of usage. */
export function fakeState(patch: Partial<ManagedSessionState> & { readonly inputTokens?: number } = {}): ManagedSessionState {
  const { inputTokens = 0, ...rest } = patch;
  return { status: 'idle', pendingRequests: 0, usage: new UsageTotals({ inputTokens }), ...rest };
}

export interface FakeSessionParts {
  readonly events$?: Observable<FakeEvent>;
  readonly state$?: Observable<ManagedSessionState>;
  readonly activity$?: Observable<number>;
  /** What `close()` does; default: resolve with an `eof` close result. */
  readonly close?: () => Promise<unknown>;
}

/** A `ManagedSession` with a recording `close()` and a writable `lastActivity`. */
export interface FakeSession extends ManagedSession {
  lastActivity: number;
  /** How many times `close()` was called. */
  readonly closeCalls: number;
}

/** A fake session whose streams are the given Observables. */
export function fakeSession(sessionId: string, parts: FakeSessionParts = {}): FakeSession {
  const close = parts.close ?? (() => Promise.resolve(closeResult('eof')));
  let calls = 0;
  return {
    sessionId,
    lastActivity: 0,
    get closeCalls() {
      return calls;
    },
    close: () => {
      calls++;
      return close();
    },
    ...(parts.events$ ? { events$: parts.events$ } : {}),
    ...(parts.state$ ? { state$: parts.state$ } : {}),
    ...(parts.activity$ ? { activity$: parts.activity$ } : {}),
  };
}

/** A fake session driven by Subjects; `close()` ends its streams as a real session does. */
export class LiveFakeSession implements ManagedSession {
  readonly sessionId: string;
  lastActivity = 0;
  closeCalls = 0;
  readonly events$: Observable<FakeEvent>;
  readonly state$: Observable<ManagedSessionState>;
  readonly activity$: Observable<number>;

  readonly #events = new Subject<FakeEvent>();
  readonly #state: BehaviorSubject<ManagedSessionState>;
  readonly #activity = new Subject<number>();
  readonly #close: () => Promise<unknown>;

  constructor(sessionId: string, options: { readonly close?: () => Promise<unknown>; readonly state?: ManagedSessionState } = {}) {
    this.sessionId = sessionId;
    this.#state = new BehaviorSubject(options.state ?? fakeState());
    this.#close = options.close ?? (() => Promise.resolve(closeResult('eof')));
    this.events$ = this.#events.asObservable();
    this.state$ = this.#state.asObservable();
    this.activity$ = this.#activity.asObservable();
  }

  /** True while anyone (the manager) is subscribed to `events$`. */
  get eventsObserved(): boolean {
    return this.#events.observed;
  }

  get activityObserved(): boolean {
    return this.#activity.observed;
  }

  emit(type: string, n?: number): void {
    this.#events.next({ type, sessionId: this.sessionId, ...(n === undefined ? {} : { n }) });
  }

  setState(patch: Partial<ManagedSessionState> & { readonly inputTokens?: number }): void {
    const { inputTokens, ...rest } = patch;
    this.#state.next({
      ...this.#state.value,
      ...rest,
      ...(inputTokens === undefined ? {} : { usage: new UsageTotals({ inputTokens }) }),
    });
  }

  /** The process died on its own: `events$` errors. */
  die(error: unknown): void {
    this.#end();
    this.#events.error(error);
  }

  /** Closed behind the manager's back: `events$` completes. */
  end(): void {
    this.#end();
    this.#events.complete();
  }

  close(): Promise<unknown> {
    this.closeCalls++;
    const result = this.#close();
    return result.then((value) => {
      this.end();
      return value;
    });
  }

  #end(): void {
    if (this.#state.closed) return;
    this.#state.next({ ...this.#state.value, status: 'closed' });
    this.#state.complete();
    this.#activity.complete();
  }
}
