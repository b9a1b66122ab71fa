import { Observable, Subject } from 'rxjs';

export interface ReplayLimits {
  /** Most events kept for late subscribers. */
  readonly maxEvents: number;
  /** Most (estimated) bytes kept for late subscribers. */
  readonly maxBytes: number;
}

/**
 * A hot multicast stream that replays the current *window* (for a session: the current run) to
 * late subscribers, bounded in count and bytes. `reset()` starts a new window; `endWindow()`
 * closes the current one: {@link observable} stops replaying it, while {@link retained} still
 * replays it until `reset()` (or the bounds) drop it.
 *
 * Unlike `ReplaySubject`, the window is cut at a meaningful boundary (a run start) rather than
 * at the last N values, and the byte bound keeps a long run from holding memory.
 * A subscriber that arrives after the end gets the window, then the terminal notification.
 */
export class ReplayHub<T> {
  readonly #subject = new Subject<T>();
  readonly #limits: ReplayLimits;
  /**
   * The window as a ring: values and their sizes in two parallel arrays (no wrapper object per
   * value), `#head` the oldest, `#size` how many. The arrays grow up to `maxEvents` and are reused.
   */
  #values: (T | undefined)[] = [];
  #sizes: number[] = [];
  #head = 0;
  #size = 0;
  #bytes = 0;
  /** How many of the oldest retained values belong to a closed window (not replayed by `observable`). */
  #closed = 0;
  #terminal: { kind: 'complete' } | { kind: 'error'; error: unknown } | undefined;

  /** Replays the open window, then live values. */
  readonly observable: Observable<T>;
  /** Replays every retained value (a closed window included), then live values. */
  readonly retained: Observable<T>;

  constructor(limits: ReplayLimits) {
    this.#limits = limits;
    this.observable = this.#replaying(() => this.#snapshot(this.#closed));
    this.retained = this.#replaying(() => this.#snapshot(0));
  }

  #replaying(snapshotOf: () => T[]): Observable<T> {
    return new Observable<T>((subscriber) => {
      const snapshot = snapshotOf();
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

  /**
   * Closes the current window: later subscribers of {@link observable} get only what comes
   * after this, while {@link retained} still replays it.
   */
  endWindow(): void {
    this.#closed = this.#size;
  }

  /** Whether anyone is subscribed (to {@link observable} or {@link retained}). */
  get observed(): boolean {
    return this.#subject.observed;
  }

  /** Number of values a late subscriber would get now. */
  get size(): number {
    return this.#size - this.#closed;
  }

  next(value: T, bytes: number): void {
    if (this.#terminal) return;
    const { maxEvents, maxBytes } = this.#limits;
    // Drop the oldest while the new value would not fit (it is always kept itself).
    while (this.#size > 0 && (this.#size + 1 > maxEvents || this.#bytes + bytes > maxBytes)) this.#dropOldest();
    if (this.#size === this.#values.length) this.#grow();
    const slot = (this.#head + this.#size) % this.#values.length;
    this.#values[slot] = value;
    this.#sizes[slot] = bytes;
    this.#size++;
    this.#bytes += bytes;
    this.#subject.next(value);
  }

  /** Starts a new replay window (the next value is the first a late subscriber gets). */
  reset(): void {
    this.#values = [];
    this.#sizes = [];
    this.#head = 0;
    this.#size = 0;
    this.#bytes = 0;
    this.#closed = 0;
  }

  #dropOldest(): void {
    this.#bytes -= this.#sizes[this.#head] as number;
    this.#values[this.#head] = undefined; // let it be collected
    this.#head = (this.#head + 1) % this.#values.length;
    this.#size--;
    if (this.#closed > 0) this.#closed--;
  }

  /** Doubles the ring (up to `maxEvents`), oldest first at index 0. */
  #grow(): void {
    const capacity = Math.min(Math.max(16, this.#values.length * 2), Math.max(1, this.#limits.maxEvents));
    const values = this.#snapshot() as (T | undefined)[];
    const sizes: number[] = [];
    for (let index = 0; index < this.#size; index++) sizes.push(this.#sizes[(this.#head + index) % this.#sizes.length] as number);
    values.length = capacity;
    sizes.length = capacity;
    this.#values = values;
    this.#sizes = sizes;
    this.#head = 0;
  }

  /** The retained values from the `from`-th oldest on, oldest first. */
  #snapshot(from = 0): T[] {
    const snapshot: T[] = [];
    for (let index = from; index < this.#size; index++) snapshot.push(this.#values[(this.#head + index) % this.#values.length] as T);
    return snapshot;
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
