import { Observable, from } from 'rxjs';
import type { ObservableInput } from 'rxjs';

/**
 * @internal Calls `factory` with a fresh AbortSignal on subscribe and mirrors what it returns. The
 * signal aborts when `parent` aborts (with its reason) or when the subscription is torn down
 * (completion, error or unsubscribe), so the callee can stop whatever it started. A synchronous
 * throw from `factory` becomes an error notification.
 */
export function fromAbortable<T>(factory: (signal: AbortSignal) => ObservableInput<T>, parent?: AbortSignal): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    const forward = (): void => controller.abort(parent?.reason);
    if (parent?.aborted) forward();
    else parent?.addEventListener('abort', forward, { once: true });
    subscriber.add(() => {
      parent?.removeEventListener('abort', forward);
      // A withdrawn parent may be seen first by someone who unsubscribes us: keep its reason.
      controller.abort(parent?.aborted ? parent.reason : undefined);
    });
    let input: ObservableInput<T>;
    try {
      input = factory(controller.signal);
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    return from(input).subscribe(subscriber);
  });
}
