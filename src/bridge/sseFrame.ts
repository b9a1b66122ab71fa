import type { PiEvent } from '../protocol/events.js';
import type { CloseNotice, CloseReason } from '../browser/wire.js';
import { SSE_EVENTS } from '../browser/wire.js';

/** One SSE frame before formatting: `data` is serialised as one line of JSON. */
export interface SseFrame {
  readonly event?: string;
  readonly id?: string;
  readonly data: unknown;
}

/**
 * Formats a frame. JSON never contains a raw CR or LF (`JSON.stringify` escapes them), so the
 * data is one `data:` line and needs no splitting.
 *
 * @param frame The frame.
 * @return Its wire text, ending with the blank line that dispatches it.
 */
export function formatSseFrame(frame: SseFrame): string {
  const head = `${frame.event === undefined ? '' : `event: ${frame.event}\n`}${frame.id === undefined ? '' : `id: ${frame.id}\n`}`;
  return `${head}data: ${JSON.stringify(frame.data) ?? 'null'}\n\n`;
}

/** An SSE comment line (ignored by clients): heartbeats, the first write that opens the stream. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/**
 * The frame of one session event: a plain message with `id:` = its `seq`. An event whose `raw`
 * can't be serialised (it always can for pi's frames, which came from JSON) goes without it.
 *
 * @param event The event.
 * @param includeRaw Whether to send `raw` (the decoded wire frame).
 * @return The formatted frame.
 */
export function formatEventFrame(event: PiEvent, includeRaw: boolean): string {
  const id = String(event.seq);
  if (includeRaw) {
    try {
      return formatSseFrame({ id, data: event });
    } catch {
      // fall through: without raw
    }
  }
  return formatSseFrame({ id, data: withoutRaw(event) });
}

/** A copy without `raw`, made without reading it (a session may decode `raw` lazily, on first read). */
function withoutRaw(event: PiEvent): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(event)) if (key !== 'raw') copy[key] = (event as unknown as Record<string, unknown>)[key];
  return copy;
}

/**
 * The last frame of a stream the server ends.
 *
 * @param reason Why.
 * @param message For people.
 * @return The frame.
 */
export function closeFrame(reason: CloseReason, message: string): SseFrame {
  const data: CloseNotice = { reason, message };
  return { event: SSE_EVENTS.close, data };
}
