import type { PiEvent } from '../protocol/events.js';
import type { CloseNotice, CloseReason } from '../wire/notices.js';
import { SSE_EVENTS } from '../wire/names.js';

/** One SSE frame before formatting: `data` is serialised as one line of JSON. */
export interface SseFrame {
  readonly event?: string;
  readonly id?: string;
  readonly data: unknown;
}

/**
 * Formats a frame. JSON never contains a raw CR or LF (`JSON.stringify` escapes them), so the
 * data is one `data:` line and needs no splitting. Never throws: data that can't be serialised
 * whole (nested too deep, a cycle, a `BigInt`) is sent with each part that can't replaced by a
 * marker string (see {@link jsonSafe}).
 *
 * @param frame The frame.
 * @return Its wire text, ending with the blank line that dispatches it.
 */
export function formatSseFrame(frame: SseFrame): string {
  return frameText(frame.event, frame.id, toJson(frame.data));
}

/** An SSE comment line (ignored by clients): heartbeats, the first write that opens the stream. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/**
 * The frame of one session event: a plain message with `id:` = its `seq`. An event whose `raw`
 * can't be serialised (it always can for pi's frames, which came from JSON) goes without it; an
 * event that can't be serialised even then (tool arguments nested thousands deep) goes as a
 * stub: the same `seq` and `type`, each value that can't be serialised replaced by a marker
 * string (`"[not serializable: RangeError: …]"`). One such event never ends a stream.
 *
 * @param event The event.
 * @param includeRaw Whether to send `raw` (the decoded wire frame).
 * @return The formatted frame.
 */
export function formatEventFrame(event: PiEvent, includeRaw: boolean): string {
  const id = String(event.seq);
  if (includeRaw) {
    try {
      return frameText(undefined, id, JSON.stringify(event));
    } catch {
      // fall through: without raw
    }
  }
  return frameText(undefined, id, toJson(withoutRaw(event)));
}

/**
 * A copy of `value` that `JSON.stringify` can serialise: `value` itself when it can; otherwise
 * its entries (`levels` deep into plain objects and arrays) each kept when they can be
 * serialised and replaced by a marker string when they can't.
 *
 * @param value Any value.
 * @param levels How many levels of objects to open before replacing a whole value.
 * @return `value`, or a copy with markers.
 * @internal
 */
export function jsonSafe(value: unknown, levels = 4): unknown {
  const error = stringifyError(value);
  if (error === undefined) return value;
  if (levels > 0 && typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
    try {
      if (Array.isArray(value)) return value.map((item) => jsonSafe(item, levels - 1));
      const copy: Record<string, unknown> = {};
      for (const key of Object.keys(value)) copy[key] = jsonSafe((value as Record<string, unknown>)[key], levels - 1);
      return copy;
    } catch (caught) {
      return notSerializable(caught);
    }
  }
  return notSerializable(error);
}

function toJson(data: unknown): string {
  try {
    return JSON.stringify(data) ?? 'null';
  } catch {
    try {
      return JSON.stringify(jsonSafe(data)) ?? 'null';
    } catch (error) {
      return JSON.stringify(notSerializable(error));
    }
  }
}

function stringifyError(value: unknown): unknown {
  try {
    JSON.stringify(value);
    return undefined;
  } catch (error) {
    return error ?? new Error('JSON.stringify threw');
  }
}

function notSerializable(error: unknown): string {
  return `[not serializable: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}]`;
}

function frameText(event: string | undefined, id: string | undefined, json: string): string {
  return `${event === undefined ? '' : `event: ${event}\n`}${id === undefined ? '' : `id: ${id}\n`}data: ${json}\n\n`;
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
