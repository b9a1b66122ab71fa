/** Bounds shared by all the SSE streams of one `sessionHandler`. */
export interface SseTotalLimits {
  /**
   * Most bytes waiting in the write buffers of all the handler's streams together (dropped
   * streams still flushing their close frame included). Past it, the streams furthest behind
   * are dropped first (`slow_client`), until the total fits again; streams that keep up are not
   * touched, nor is the session. Default 128 MiB.
   */
  readonly maxTotalBufferedBytes: number;
  /**
   * Most streams open at once (dropped streams still flushing count). A stream asked for beyond
   * it first evicts a dropped one; if none is, the request is answered 503 with `Retry-After`
   * (the browser client retries). Default 1,000.
   */
  readonly maxStreams: number;
}

/** What the budget needs from a stream. */
export interface BudgetedStream {
  /** Bytes waiting in its write buffer that count against the bounds. */
  readonly backlog: number;
  /** True once it was dropped or ended: it only flushes what it has. */
  readonly ending: boolean;
  /** Drops it as a slow client: a `slow_client` close frame, `onClientDropped`, the grace period. */
  drop(bound: 'total'): void;
  /** Ends it at once: destroys its socket (and leaves the budget). */
  destroy(): void;
}

/**
 * The total bound across the streams of one handler. Each stream reports its backlog after
 * each write ({@link note}); the running sum is an estimate (backlogs shrink as sockets flush,
 * unreported), recounted exactly whenever it passes the bound. Over the bound, streams already
 * dropped are destroyed first (largest backlog first), then the live streams furthest behind
 * are dropped, until the total fits.
 *
 * @internal
 */
export class SseBudget {
  readonly limits: SseTotalLimits;
  readonly #counted = new Map<BudgetedStream, number>();
  #estimate = 0;

  constructor(limits: SseTotalLimits) {
    this.limits = limits;
  }

  /** How many streams are counted (open, or dropped and still flushing). */
  get size(): number {
    return this.#counted.size;
  }

  /** The bytes waiting in all the streams' write buffers, counted now. */
  get bufferedBytes(): number {
    this.#recount();
    return this.#estimate;
  }

  /**
   * Makes room for one more stream, destroying dropped ones if needed.
   *
   * @return Whether a stream may be added.
   */
  admit(): boolean {
    if (this.#counted.size < this.limits.maxStreams) return true;
    for (const stream of this.#largestFirst()) {
      if (this.#counted.size < this.limits.maxStreams) break;
      if (stream.ending) stream.destroy();
    }
    return this.#counted.size < this.limits.maxStreams;
  }

  add(stream: BudgetedStream): void {
    if (!this.#counted.has(stream)) this.#counted.set(stream, 0);
  }

  remove(stream: BudgetedStream): void {
    this.#estimate -= this.#counted.get(stream) ?? 0;
    this.#counted.delete(stream);
  }

  /**
   * Records a stream's backlog (after a write, or a drain) and enforces the total bound.
   *
   * @param stream A stream that was {@link add}ed.
   */
  note(stream: BudgetedStream): void {
    const before = this.#counted.get(stream);
    if (before === undefined) return;
    const backlog = stream.backlog;
    this.#counted.set(stream, backlog);
    this.#estimate += backlog - before;
    if (this.#estimate <= this.limits.maxTotalBufferedBytes) return;
    this.#recount();
    if (this.#estimate > this.limits.maxTotalBufferedBytes) this.#evict();
  }

  #recount(): void {
    let total = 0;
    for (const stream of this.#counted.keys()) {
      const backlog = stream.backlog;
      this.#counted.set(stream, backlog);
      total += backlog;
    }
    this.#estimate = total;
  }

  #evict(): void {
    const max = this.limits.maxTotalBufferedBytes;
    const candidates = this.#largestFirst();
    let total = this.#estimate;
    // Streams already dropped hold only a close frame nobody reads in time: free them first.
    for (const stream of candidates) {
      if (total <= max) return;
      if (stream.ending && this.#counted.has(stream)) {
        total -= this.#counted.get(stream) ?? 0;
        stream.destroy();
      }
    }
    // Then the live streams furthest behind. Each keeps its grace period to flush the close
    // frame; its backlog is counted as gone here, and it is the first destroyed next time.
    for (const stream of candidates) {
      if (total <= max) return;
      const backlog = this.#counted.get(stream) ?? 0;
      if (!stream.ending && backlog > 0) {
        total -= backlog;
        stream.drop('total');
      }
    }
  }

  #largestFirst(): BudgetedStream[] {
    return [...this.#counted.keys()].sort((a, b) => (this.#counted.get(b) ?? 0) - (this.#counted.get(a) ?? 0));
  }
}
