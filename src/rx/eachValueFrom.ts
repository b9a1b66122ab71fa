import type { Observable } from 'rxjs';

/**
 * An Observable as a lossless async iterable (after rxjs-for-await's `eachValueFrom`).
 *
 * Values that arrive while the loop body runs wait in a buffer, so a slow loop grows memory
 * with the stream. `break`/`return` unsubscribes; an Observable error is thrown from the loop.
 */
export function eachValueFrom<T>(source: Observable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const buffer: T[] = [];
      let done = false;
      let failure: { error: unknown } | undefined;
      let wake: (() => void) | undefined;
      const notify = () => {
        const resume = wake;
        wake = undefined;
        resume?.();
      };
      const subscription = source.subscribe({
        next: (value) => {
          buffer.push(value);
          notify();
        },
        error: (error: unknown) => {
          failure = { error };
          notify();
        },
        complete: () => {
          done = true;
          notify();
        },
      });
      return {
        async next(): Promise<IteratorResult<T>> {
          for (;;) {
            if (buffer.length > 0) return { value: buffer.shift() as T, done: false };
            if (failure) throw failure.error;
            if (done) return { value: undefined, done: true };
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        },
        return(): Promise<IteratorResult<T>> {
          subscription.unsubscribe();
          buffer.length = 0;
          done = true;
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}
