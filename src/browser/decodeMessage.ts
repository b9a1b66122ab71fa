/**
 * Turns one SSE message from the bridge into what it means: a validated event, a state or
 * pending snapshot, a notice, or the end of the stream.
 */
import { PiDriverError, TransportClosedError } from '../errors.js';
import type { InteractionRequest, PiEvent } from '../protocol/events.js';
import type { SessionState } from '../protocol/sessionValues.js';
import { ConnectionLostError } from './errors.js';
import type { SseMessage } from './SseParser.js';
import { OPEN } from './sseSources.js';
import { SSE_EVENTS } from '../wire/names.js';
import { PendingWireSchema, PiEventWireSchema, SessionStateWireSchema } from '../wire/values.js';
import { CloseNoticeSchema, ErrorBodySchema, GapNoticeSchema, ResetNoticeSchema, type GapNotice, type ResetNotice } from '../wire/notices.js';

/** A message that didn't validate: kept as a value (a bad frame never ends a stream). */
export interface InvalidMessage {
  readonly kind: 'invalid';
  /** The SSE event name. */
  readonly event: string;
  readonly data: string;
  /** The `seq` it claimed (its SSE `id`), if any. */
  readonly seq: number | undefined;
  readonly message: string;
}

/** What a message from the bridge means. */
export type Decoded =
  | { readonly kind: 'open' }
  | { readonly kind: 'event'; readonly event: PiEvent; readonly bytes: number }
  | { readonly kind: 'state'; readonly state: SessionState }
  | { readonly kind: 'pending'; readonly pending: readonly InteractionRequest[] }
  | { readonly kind: 'gap'; readonly gap: GapNotice }
  | { readonly kind: 'reset'; readonly reset: ResetNotice }
  | InvalidMessage
  /** The stream is over for good (the session closed, or a prompt's run ended). */
  | { readonly kind: 'end' }
  /** The stream failed: `error` says whether a reconnect may help (see `isRetryable`). */
  | { readonly kind: 'fail'; readonly error: Error }
  /** Something this client doesn't know (a newer server): ignored. */
  | { readonly kind: 'ignored' };

/**
 * Decodes one SSE message.
 *
 * @param message The message (or {@link OPEN}).
 * @return Its meaning; never throws.
 */
export function decodeMessage(message: SseMessage): Decoded {
  if (message === OPEN) return { kind: 'open' };
  switch (message.event) {
    case 'message':
      return decodeEvent(message);
    case SSE_EVENTS.state:
      return decodeWith(message, (json) => {
        const state = SessionStateWireSchema.safeParse(json);
        return state.success ? { kind: 'state', state: state.data } : state.error;
      });
    case SSE_EVENTS.pending:
      return decodeWith(message, (json) => {
        const pending = PendingWireSchema.safeParse(json);
        return pending.success ? { kind: 'pending', pending: pending.data } : pending.error;
      });
    case SSE_EVENTS.gap:
      return decodeWith(message, (json) => {
        const gap = GapNoticeSchema.safeParse(json);
        return gap.success ? { kind: 'gap', gap: gap.data } : gap.error;
      });
    case SSE_EVENTS.reset:
      return decodeWith(message, (json) => {
        const reset = ResetNoticeSchema.safeParse(json);
        return reset.success ? { kind: 'reset', reset: reset.data } : reset.error;
      });
    case SSE_EVENTS.close:
      return decodeWith(message, (json) => {
        const close = CloseNoticeSchema.safeParse(json);
        if (!close.success) return { kind: 'fail', error: new ConnectionLostError('the server closed the stream') };
        switch (close.data.reason) {
          case 'session_closed':
            return { kind: 'end' };
          case 'session_died':
            return { kind: 'fail', error: new TransportClosedError(close.data.message) };
          default:
            return { kind: 'fail', error: new ConnectionLostError(`the server closed the stream (${close.data.reason}): ${close.data.message}`) };
        }
      });
    case SSE_EVENTS.end:
      return { kind: 'end' };
    case SSE_EVENTS.failure:
      return decodeWith(message, (json) => {
        const body = ErrorBodySchema.safeParse(json);
        const error = body.success ? new PiDriverError(body.data.error, { code: body.data.code ?? 'PI_BRIDGE' }) : new PiDriverError('the prompt failed');
        return { kind: 'fail', error };
      });
    default:
      return { kind: 'ignored' };
  }
}

function decodeEvent(message: SseMessage): Decoded {
  const claimed = message.id === undefined ? undefined : Number(message.id);
  const seq = claimed !== undefined && Number.isInteger(claimed) && claimed > 0 ? claimed : undefined;
  return decodeWith(
    message,
    (json) => {
      // JSON drops `raw: undefined` (events pidriver makes itself have no wire frame); locally the key is there.
      if (typeof json === 'object' && json !== null && !('raw' in json)) (json as { raw?: unknown }).raw = undefined;
      const event = PiEventWireSchema.safeParse(json);
      return event.success ? { kind: 'event', event: event.data, bytes: message.data.length } : event.error;
    },
    seq,
  );
}

function decodeWith(message: SseMessage, decode: (json: unknown) => Decoded | Error, seq?: number): Decoded {
  let json: unknown;
  try {
    json = JSON.parse(message.data);
  } catch (error) {
    return invalid(message, seq, `not JSON: ${(error as Error).message}`);
  }
  const decoded = decode(json);
  return decoded instanceof Error ? invalid(message, seq, decoded.message) : decoded;
}

function invalid(message: SseMessage, seq: number | undefined, reason: string): InvalidMessage {
  return { kind: 'invalid', event: message.event, data: message.data, seq, message: `invalid "${message.event}" frame from the bridge: ${reason}` };
}
