import { Observable, Subject } from 'rxjs';

export interface ReplayLimits {
  /** Most events kept for late subscribers. */
  readonly maxEvents: number;
  /** Most (estimated) bytes kept for late subscribers. */
  readonly maxBytes: number;
}

/**
 * A hot multicast stream that replays the current *window* (for a session: the current run) to
 * late subscribers, bounded in count and bytes. `reset()` starts a new window.
 *
 * Unlike `ReplaySubject`, the window is cut at a meaningful boundary (a run start) rather than
 * at the last N values, and the byte bound keeps a long run from holding memory.
 * A subscriber that arrives after the end gets the window, then the terminal notification.
 */
export class ReplayHub<T> {
  readonly #subject = new Subject<T>();
  readonly #limits: ReplayLimits;
  #buffer: { value: T; bytes: number }[] = [];
  #head = 0;
  #bytes = 0;
  #terminal: { kind: 'complete' } | { kind: 'error'; error: unknown } | undefined;

  readonly observable: Observable<T>;

  constructor(limits: ReplayLimits) {
    this.#limits = limits;
    this.observable = new Observable<T>((subscriber) => {
      const snapshot = this.#buffer.slice(this.#head).map((entry) => entry.value);
      const terminal = this.#terminal;
      if (terminal) {
        for (const value of snapshot) subscriber.next(value);
        if (terminal.kind === 'error') subscriber.error(terminal.error);
        else subscriber.complete();
        return undefined;
      }
      // Subscribe first and hold live values back until the snapshot is out, so a value
      // emitted re-entrantly while replaying is neither lost nor reordered.
      let replaying = true;
      const held: T[] = [];
      const subscription = this.#subject.subscribe({
        next: (value) => (replaying ? held.push(value) : subscriber.next(value)),
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      for (const value of snapshot) {
        if (subscriber.closed) break;
        subscriber.next(value);
      }
      for (let index = 0; index < held.length && !subscriber.closed; index++) subscriber.next(held[index] as T);
      replaying = false;
      return subscription;
    });
  }

  /** Number of values a late subscriber would get now. */
  get size(): number {
    return this.#buffer.length - this.#head;
  }

  next(value: T, bytes: number): void {
    if (this.#terminal) return;
    this.#buffer.push({ value, bytes });
    this.#bytes += bytes;
    while (this.size > 1 && (this.size > this.#limits.maxEvents || this.#bytes > this.#limits.maxBytes)) {
      const dropped = this.#buffer[this.#head++];
      this.#bytes -= dropped?.bytes ?? 0;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
    this.#subject.next(value);
  }

  /** Starts a new replay window (the next value is the first a late subscriber gets). */
  reset(): void {
    this.#buffer = [];
    this.#head = 0;
    this.#bytes = 0;
  }

  complete(): void {
    if (this.#terminal) return;
    this.#terminal = { kind: 'complete' };
    this.#subject.complete();
  }

  error(error: unknown): void {
    if (this.#terminal) return;
    this.#terminal = { kind: 'error', error };
    this.#subject.error(error);
  }
}
