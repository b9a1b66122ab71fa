import { concat, concatMap, defer, type Observable } from 'rxjs';
import type { GapNotice, ResetNotice } from '../wire/notices.js';
import type { PiEvent } from '../protocol/events.js';

/** What a (re)connecting client is sent: events it hasn't seen, and notices about those it can't get. */
export type ResumeItem =
  | { readonly kind: 'event'; readonly event: PiEvent }
  | { readonly kind: 'gap'; readonly gap: GapNotice }
  | { readonly kind: 'reset'; readonly reset: ResetNotice };

/**
 * Resumes a session's events after `lastEventId` (the `Last-Event-ID` of a reconnecting client).
 *
 * `events$` replays the session's current window (the current run) on subscription, then goes
 * live; events the client has seen (`seq <= lastEventId`) are skipped. When the first new event
 * is not `lastEventId + 1`, the events in between have left the window: a `gap` says which, so
 * the client knows it missed them. A `lastEventId` beyond the session's current `seq` means the
 * client knew another session (a restarted server): a `reset` comes first, then the whole window.
 *
 * @param events$ The session's events (replaying, gap-free `seq`).
 * @param lastEventId The last `seq` the client has, or `undefined` for a fresh client (the whole window).
 * @param currentSeq Reads the session's last `seq` at subscription (`state.eventCount`); `undefined` if unknown.
 * @return A cold Observable of the items to send.
 */
export function resumeAfter(events$: Observable<PiEvent>, lastEventId: number | undefined, currentSeq: () => number | undefined): Observable<ResumeItem> {
  return defer(() => {
    const head: ResumeItem[] = [];
    let expected = lastEventId === undefined ? undefined : lastEventId + 1;
    const current = currentSeq();
    if (lastEventId !== undefined && current !== undefined && lastEventId > current) {
      head.push({ kind: 'reset', reset: { lastEventId, currentSeq: current } });
      expected = undefined;
    }
    const resumed$ = events$.pipe(
      concatMap((event): ResumeItem[] => {
        const item: ResumeItem = { kind: 'event', event };
        if (expected === undefined) {
          expected = event.seq + 1;
          return [item];
        }
        if (event.seq < expected) return []; // the client has it
        const items: ResumeItem[] = event.seq > expected ? [{ kind: 'gap', gap: { missedFrom: expected, missedTo: event.seq - 1 } }, item] : [item];
        expected = event.seq + 1;
        return items;
      }),
    );
    return concat(head, resumed$);
  });
}
