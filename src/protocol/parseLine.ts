/**
 * One stdout line → one validated frame, never an exception (house style item 5: a parse error
 * inside a hot pipeline would error `events$` for every subscriber).
 */
import type { z } from 'zod';
import { encodeUtf8 } from './bytes.js';
import { decodeRaw, DeferredRaw, stripResentMessage } from './DeferredRaw.js';
import { FRAME_SCHEMAS, isKnownFrameType, MessageUpdateFrameSchema, type KnownFrame, type UnknownFrame } from './frames.js';
import { MESSAGE_UPDATE_PREFIX, scanMessageUpdate, type MessageUpdateScan } from './scanMessageUpdate.js';

/** The outcome of parsing one line. */
export type ParsedLine =
  /** A frame of a type the driver models, validated. `raw` is the decoded JSON (see {@link parseLine}). */
  | { readonly kind: 'frame'; readonly frame: KnownFrame; readonly raw: Record<string, unknown> }
  /** A JSON object with a `type` the driver does not model. */
  | { readonly kind: 'unknown'; readonly frame: UnknownFrame; readonly line: string }
  /** Not JSON, not an object with a string `type`, or a known type that failed its schema. */
  | { readonly kind: 'invalid'; readonly line: string; readonly message: string; readonly issues?: readonly string[] };

/**
 * A line as a session reads it: a {@link ParsedLine}, or a `message_update` frame from the fast
 * path whose `raw` is decoded only when someone reads it. Its `frame` holds the fields the frame
 * schema types (all the session uses), validated by that schema.
 *
 * @internal
 */
export type SessionLine = ParsedLine | { readonly kind: 'deferred'; readonly frame: KnownFrame; readonly raw: DeferredRaw };

/** Below this length a `message_update` line is cheaper to `JSON.parse` whole (for {@link parseLine}). */
const FAST_PATH_MIN_LENGTH = 2_048;

/**
 * Parses one line of pi's stdout.
 *
 * `message_update` frames from pi 0.73 and omp resend the whole partial message twice
 * (`assistantMessageEvent.partial` and `message`): ~99% of their bytes, quadratic in the reply
 * length, and can be stale (the deltas are the truth). `raw` is the frame without them (`{ type, assistantMessageEvent }`
 * plus any other key), and long lines are read by a scanner that validates the resent copies
 * without decoding them (same result as a full parse, at a fraction of the cost).
 */
export function parseLine(line: string): ParsedLine {
  if (line.length >= FAST_PATH_MIN_LENGTH && line.startsWith(MESSAGE_UPDATE_PREFIX) && isWellFormed(line)) {
    const scan = scanMessageUpdate(encodeUtf8(line));
    if (scan) return validate('message_update', decodeRaw(scan.text), line);
  }
  return parseFully(line);
}

/**
 * Reads a line for a session: the fast path for every `message_update` line that starts the way
 * pi writes it, {@link parseLine} for the rest and for anything the fast path can't vouch for.
 *
 * @internal
 */
export function readLine(line: string): SessionLine {
  if (line.startsWith(MESSAGE_UPDATE_PREFIX) && isWellFormed(line)) {
    const scan = scanMessageUpdate(encodeUtf8(line));
    const read = scan && readScan(scan);
    if (read) return read;
  }
  return parseLine(line);
}

/**
 * The session's reading of a line the transport already scanned: validated with the frame
 * schema; `undefined` when the schema refuses it (then parse the whole line, which reports why).
 *
 * @internal
 */
export function readScan(scan: MessageUpdateScan): SessionLine | undefined {
  const raw = new DeferredRaw(scan.recipe ?? scan.text);
  if (isPlainDelta(scan.frame)) return { kind: 'deferred', frame: scan.frame as KnownFrame, raw };
  const result = MessageUpdateFrameSchema.safeParse(scan.frame);
  if (!result.success) return undefined;
  return { kind: 'deferred', frame: result.data, raw };
}

/**
 * The schema's verdict on the commonest frame of all, a delta (an event with `type` and at most
 * `contentIndex` and `delta`), computed directly: it accepts exactly these values and returns
 * them unchanged, so the scanned frame can stand as the parsed one. Anything else goes through
 * `MessageUpdateFrameSchema`; spec/protocol/messageUpdateFastPath.property.spec.ts checks that
 * the two agree. (The schema's parse costs more than the rest of the fast path, in allocations
 * above all.)
 */
function isPlainDelta(frame: MessageUpdateScan['frame']): boolean {
  const event = frame.assistantMessageEvent;
  let keys = 0;
  for (const key in event) {
    if (key !== 'type' && key !== 'contentIndex' && key !== 'delta') return false;
    keys++;
  }
  if (keys === 0 || typeof event['type'] !== 'string') return false;
  for (const key in frame) if (key !== 'type' && key !== 'assistantMessageEvent') return false;
  const contentIndex = event['contentIndex'];
  const delta = event['delta'];
  return (
    (contentIndex === undefined || contentIndex === null || (typeof contentIndex === 'number' && Number.isFinite(contentIndex))) &&
    (delta === undefined || delta === null || typeof delta === 'string')
  );
}

function parseFully(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { kind: 'invalid', line, message: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', line, message: 'not a JSON object' };
  }
  const record = value as Record<string, unknown>;
  const type = record['type'];
  if (typeof type !== 'string') return { kind: 'invalid', line, message: 'frame has no string "type"' };
  if (!isKnownFrameType(type)) return { kind: 'unknown', frame: record as UnknownFrame, line };
  if (type === 'message_update') stripResentMessage(record);
  return validate(type, record, line);
}

function validate(type: keyof typeof FRAME_SCHEMAS, record: Record<string, unknown>, line: string): ParsedLine {
  const schema: z.ZodType = FRAME_SCHEMAS[type];
  const result = schema.safeParse(record);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return { kind: 'invalid', line, message: `invalid "${type}" frame: ${issues.join('; ')}`, issues };
  }
  return { kind: 'frame', frame: result.data as KnownFrame, raw: record };
}

/**
 * A lone surrogate would not survive the trip through UTF-8 bytes (it becomes U+FFFD), so such
 * a line takes the slow path. One-byte strings are well-formed by construction, so this is cheap.
 */
function isWellFormed(line: string): boolean {
  const check = (line as { isWellFormed?: () => boolean }).isWellFormed;
  return check ? check.call(line) : !/[\uD800-\uDFFF]/.test(line) || wellFormedSlow(line);
}

function wellFormedSlow(line: string): boolean {
  for (let index = 0; index < line.length; index++) {
    const code = line.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = line.charCodeAt(index + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      index++;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return false;
    }
  }
  return true;
}
