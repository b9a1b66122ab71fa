/**
 * One stdout line → one validated frame, never an exception (house style item 5: a parse error
 * inside a hot pipeline would error `events$` for every subscriber).
 */
import type { z } from 'zod';
import { FRAME_SCHEMAS, isKnownFrameType, type KnownFrame, type UnknownFrame } from './frames.js';

/** The outcome of parsing one line. */
export type ParsedLine =
  /** A frame of a type the driver models, validated. `raw` is the decoded JSON (see {@link parseLine}). */
  | { readonly kind: 'frame'; readonly frame: KnownFrame; readonly raw: Record<string, unknown> }
  /** A JSON object with a `type` the driver does not model. */
  | { readonly kind: 'unknown'; readonly frame: UnknownFrame; readonly line: string }
  /** Not JSON, not an object with a string `type`, or a known type that failed its schema. */
  | { readonly kind: 'invalid'; readonly line: string; readonly message: string; readonly issues?: readonly string[] };

const MESSAGE_UPDATE_PREFIX = '{"type":"message_update","assistantMessageEvent":{';

/**
 * Parses one line of pi's stdout.
 *
 * `message_update` frames from pi 0.73 and omp resend the whole partial message twice
 * (`assistantMessageEvent.partial` and `message`): ~99% of their bytes, quadratic in the reply
 * length, and unreliable (G8). The driver needs only the event itself, so for that frame shape
 * the parser stops at the `partial` key instead of decoding the resent copies, and `raw` is
 * `{ type, assistantMessageEvent }` without them.
 */
export function parseLine(line: string): ParsedLine {
  const fast = line.startsWith(MESSAGE_UPDATE_PREFIX) ? parseMessageUpdatePrefix(line) : undefined;
  let value: unknown;
  if (fast !== undefined) {
    value = fast;
  } else {
    try {
      value = JSON.parse(line);
    } catch (error) {
      return { kind: 'invalid', line, message: `not JSON: ${(error as Error).message}` };
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', line, message: 'not a JSON object' };
  }
  const record = value as Record<string, unknown>;
  const type = record['type'];
  if (typeof type !== 'string') return { kind: 'invalid', line, message: 'frame has no string "type"' };
  if (!isKnownFrameType(type)) return { kind: 'unknown', frame: record as UnknownFrame, line };
  if (type === 'message_update' && fast === undefined) stripResentMessage(record);

  const schema: z.ZodType = FRAME_SCHEMAS[type];
  const result = schema.safeParse(record);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return { kind: 'invalid', line, message: `invalid "${type}" frame: ${issues.join('; ')}`, issues };
  }
  return { kind: 'frame', frame: result.data as KnownFrame, raw: record };
}

/** Drops the resent copies from a fully parsed `message_update` so `raw` stays small. */
function stripResentMessage(record: Record<string, unknown>): void {
  delete record['message'];
  const event = record['assistantMessageEvent'];
  if (typeof event === 'object' && event !== null) delete (event as Record<string, unknown>)['partial'];
}

/**
 * Decodes `{"type":"message_update","assistantMessageEvent":{…,"partial":` up to the `partial`
 * key of the event object, without touching the rest of the line. Returns `undefined` when the
 * line has another shape (then the caller parses it fully).
 *
 * Scanning is safe because an unescaped `"` can only delimit a string in valid JSON, so a key
 * named `partial` inside a string value can't be mistaken for the real one, and depth tracking
 * ignores `partial` keys nested inside e.g. tool-call arguments.
 */
function parseMessageUpdatePrefix(line: string): Record<string, unknown> | undefined {
  const start = MESSAGE_UPDATE_PREFIX.length - 1; // the event's `{`
  let depth = 0;
  let index = start;
  const length = line.length;
  while (index < length) {
    const code = line.charCodeAt(index);
    if (code === 0x22 /* " */) {
      const stringStart = index;
      index = skipString(line, index);
      if (index < 0) return undefined;
      if (depth === 1 && line.startsWith('"partial":', stringStart) && line.charCodeAt(stringStart - 1) === 0x2c) {
        return decodeEventPrefix(line.slice(start, stringStart - 1));
      }
      continue;
    }
    if (code === 0x7b /* { */ || code === 0x5b /* [ */) depth++;
    else if (code === 0x7d /* } */ || code === 0x5d /* ] */) {
      depth--;
      if (depth === 0) return undefined; // the event closed without a `partial`: small frame, parse it whole
    }
    index++;
  }
  return undefined;
}

/** Index just past the string that starts at `index` (a `"`), or -1 if it never closes. */
function skipString(line: string, index: number): number {
  let cursor = index + 1;
  for (;;) {
    const quote = line.indexOf('"', cursor);
    if (quote < 0) return -1;
    // Count the backslashes before the quote: an odd count escapes it.
    let backslashes = 0;
    for (let back = quote - 1; line.charCodeAt(back) === 0x5c; back--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    cursor = quote + 1;
  }
}

function decodeEventPrefix(eventWithoutPartial: string): Record<string, unknown> | undefined {
  try {
    const assistantMessageEvent: unknown = JSON.parse(`${eventWithoutPartial}}`);
    return { type: 'message_update', assistantMessageEvent };
  } catch {
    return undefined;
  }
}
