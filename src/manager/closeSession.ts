import { firstValueFrom, from, map, race, type SchedulerLike } from 'rxjs';
import { PiTimeoutError } from '../errors.js';
import { longTimer } from '../rx/longTimer.js';
import { stopStatusOf, type ManagedSession, type StopResult } from './ManagedSession.js';

/**
 * Closes a session and says how it ended. Never rejects: a rejected close (or a `close()` that
 * throws) is `status: 'error'`.
 *
 * @param session The session.
 * @return Its stop result.
 */
export async function closeSession(session: ManagedSession): Promise<StopResult> {
  const { sessionId } = session;
  try {
    const closeResult = await session.close();
    return { sessionId, status: stopStatusOf(closeResult), closeResult };
  } catch (error) {
    // A rejected close, or a close() that threw synchronously.
    return { sessionId, status: 'error', error };
  }
}

/**
 * A close bounded in time: the close's result, or a `PiTimeoutError` result once `timeoutMs`
 * passed on `scheduler` (the close keeps running).
 *
 * @param sessionId The session's id.
 * @param closing Its close (see {@link closeSession}).
 * @param timeoutMs The bound; `undefined` for none.
 * @param scheduler The time source.
 * @return The first of the two.
 */
export function closeWithin(sessionId: string, closing: Promise<StopResult>, timeoutMs: number | undefined, scheduler: SchedulerLike): Promise<StopResult> {
  if (timeoutMs === undefined) return closing;
  return firstValueFrom(
    race(
      from(closing),
      longTimer(timeoutMs, scheduler).pipe(
        map((): StopResult => ({
          sessionId,
          status: 'error',
          error: new PiTimeoutError(`closing session "${sessionId}"`, timeoutMs),
        })),
      ),
    ),
  );
}
