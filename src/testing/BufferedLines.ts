import { Observable, Subject } from 'rxjs';

/**
 * The stdout of a fake process, shared by {@link FakeTransport} and the replay transport: lines
 * written while nobody reads wait in a buffer (as a pipe holds what its reader hasn't read) and
 * go to the next subscriber first; then lines go straight to it. Once ended, writes are ignored,
 * and a subscriber gets what is buffered, then completion.
 *
 * @typeParam T A line (`TransportLine`).
 */
export class BufferedLines<T> {
  /** The lines, for one reader at a time (a transport's `lines$`). */
  readonly lines$: Observable<T>;

  readonly #live = new Subject<T>();
  readonly #backlog: T[] = [];
  #reading = false;
  #ended = false;

  constructor() {
    this.lines$ = new Observable<T>((subscriber) => {
      this.#reading = true;
      for (const line of this.#backlog.splice(0)) subscriber.next(line);
      if (this.#ended) {
        subscriber.complete();
        return undefined;
      }
      const subscription = this.#live.subscribe(subscriber);
      return () => {
        this.#reading = false;
        subscription.unsubscribe();
      };
    });
  }

  /** Whether stdout has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Writes one line: to the reader, or into the buffer while there is none. Ignored once ended. */
  write(line: T): void {
    if (this.#ended) return;
    if (this.#reading) this.#live.next(line);
    else this.#backlog.push(line);
  }

  /** Ends stdout (the reader completes). Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#live.complete();
  }
}
