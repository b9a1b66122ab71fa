import { Observable } from 'rxjs';

/**
 * @internal Emits once (then completes) when `signal` aborts; at once if it already has. The
 * listener is removed on teardown, so a long-lived signal doesn't collect listeners.
 */
export function fromAbortSignal(signal: AbortSignal): Observable<void> {
  return new Observable<void>((subscriber) => {
    const onAbort = (): void => {
      subscriber.next();
      subscriber.complete();
    };
    if (signal.aborted) {
      onAbort();
      return undefined;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  });
}
