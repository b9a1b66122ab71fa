import { Observable, type Subscription } from 'rxjs';

/**
 * Emits once when `subscription` is unsubscribed (at once if it already is).
 *
 * @internal
 */
export function unsubscribed$(subscription: Subscription): Observable<void> {
  return new Observable<void>((subscriber) => {
    const notify = (): void => subscriber.next();
    subscription.add(notify);
    return () => subscription.remove(notify);
  });
}
