/**
 * The fast path for pi's `message_update` frames, the bulk of every stream: it reads one from
 * its UTF-8 bytes in a single validating pass, without building the object tree `JSON.parse`
 * would, and without decoding the two copies of the partial assistant message that pi 0.73 and
 * omp resend in every such frame (`assistantMessageEvent.partial` and `message`, ~99% of the
 * bytes, quadratic in the reply's length).
 *
 * What it gives the session is what the slow path (`JSON.parse`, then dropping the resent copies,
 * then the zod frame schema) would use: the `assistantMessageEvent` fields the frame schema
 * types, decoded, and the frame's text with each resent copy replaced by `0`, which decodes to
 * the slow path's `raw` once the two keys are deleted. Every byte of the line is checked as JSON
 * ({@link JsonSkipper}); a line it can't vouch for (not JSON, another shape, an escaped key,
 * a duplicate `type`) is left to the slow path, so the fast path never changes an outcome.
 */
import { bytesAt, decodeUtf8, sameBytes } from './bytes.js';
import { AssistantMessageEventSchema, MessageUpdateFrameSchema } from './frames.js';
import { JsonSkipper } from './JsonSkipper.js';

/** What every line the fast path reads starts with (pi writes `type` first). */
export const MESSAGE_UPDATE_PREFIX = '{"type":"message_update",';

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

const bytesOf = (text: string): readonly number[] => Array.from(text, (char) => char.charCodeAt(0));
const PREFIX = bytesOf(MESSAGE_UPDATE_PREFIX);
const KEY_TYPE = bytesOf('type');
const KEY_EVENT = bytesOf('assistantMessageEvent');
const KEY_MESSAGE = bytesOf('message');
const KEY_PARTIAL = bytesOf('partial');

/**
 * The keys the schemas type, taken from the schemas so the two never drift apart: their values
 * are decoded (for the schema to check); any other key is only validated. `type`,
 * `assistantMessageEvent` and the resent copies are handled on their own.
 */
const TYPED_FRAME_KEYS = Object.keys(MessageUpdateFrameSchema.shape).filter((key) => key !== 'type' && key !== 'assistantMessageEvent' && key !== 'message');
const TYPED_EVENT_KEYS = Object.keys(AssistantMessageEventSchema.shape).filter((key) => key !== 'partial');
const TYPED_FRAME_KEY_BYTES = TYPED_FRAME_KEYS.map(bytesOf);
const TYPED_EVENT_KEY_BYTES = TYPED_EVENT_KEYS.map(bytesOf);

/**
 * The frame of a plain delta (`type`, at most one other top-level member, and an event of just
 * `type`, `contentIndex`, `delta`), kept as its parts: `member` is that other member's text
 * (`"usage":{…}`), the same string for every frame that repeats it, so a frame costs no text of
 * its own. {@link recipeText} rebuilds JSON text that decodes to the frame.
 */
export interface RawRecipe {
  readonly member: string | undefined;
  /** Whether `member` comes after `assistantMessageEvent` on the wire (key order is kept). */
  readonly memberLast: boolean;
  readonly type: string;
  readonly contentIndex: number;
  readonly delta: string;
}

/** JSON text that decodes to the frame a {@link RawRecipe} stands for (key order kept). */
export function recipeText(recipe: RawRecipe): string {
  const index = Object.is(recipe.contentIndex, -0) ? '-0' : JSON.stringify(recipe.contentIndex);
  const event = `"assistantMessageEvent":{"type":${JSON.stringify(recipe.type)},"contentIndex":${index},"delta":${JSON.stringify(recipe.delta)}}`;
  if (recipe.member === undefined) return `{"type":"message_update",${event}}`;
  return recipe.memberLast ? `{"type":"message_update",${event},${recipe.member}}` : `{"type":"message_update",${recipe.member},${event}}`;
}

/** A `message_update` line read by the fast path. */
export interface MessageUpdateScan {
  /**
   * The frame as JSON text, each resent copy (`assistantMessageEvent.partial`, top-level
   * `message`) replaced by `0`; the whole line when it had none (pi 1.x). `JSON.parse` it and
   * delete those two keys to get the slow path's `raw`. For a plain delta it is rebuilt from
   * {@link recipe} on first read (equal as JSON, not byte for byte).
   */
  readonly text: string;
  /** A plain delta's parts, when it is one: what to keep instead of {@link text}. */
  readonly recipe?: RawRecipe | undefined;
  /**
   * The frame reduced to what the frame schema types: `type`, and the typed fields present on
   * the wire (`assistantMessageEvent.type`, `contentIndex`, `delta`, …), decoded. Validate it with
   * `MessageUpdateFrameSchema`.
   */
  readonly frame: { readonly type: 'message_update'; readonly assistantMessageEvent: Record<string, unknown>; readonly [key: string]: unknown };
  /** True when resent copies were cut out of {@link text}. */
  readonly cut: boolean;
}

/** Whether `bytes[start, end)` starts like a line the fast path reads. */
export function startsLikeMessageUpdate(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  if (end - start < PREFIX.length) return false;
  for (let offset = 0; offset < PREFIX.length; offset++) if (bytes[start + offset] !== PREFIX[offset]) return false;
  return true;
}

/** Longest member (`"key":value`) remembered as already validated. */
const MEMO_MAX_BYTES = 4_096;

/**
 * Reads `message_update` lines (see the module comment). One scanner serves one stream at a
 * time: it remembers the last untyped top-level member it validated (pi 1.x's cumulative
 * `usage`, which repeats frame after frame until it changes), so identical bytes are vouched
 * for by one memcmp instead of a second validation.
 */
export class MessageUpdateScanner {
  readonly #json = new JsonSkipper();
  /** `[start, end)` pairs of the resent copies, in order (of the line being scanned). */
  #cuts: number[] = [];
  /** Value spans of the event's typed keys: `[keyIndex, start, end, escaped]`; the last one wins, as in `JSON.parse`. */
  #typedEvent: number[] = [];
  /** The last untyped top-level member validated, key to value, and its text. */
  #memo: Uint8Array | undefined;
  #memoText: string | undefined;
  /** Set by {@link #deltaEvent} when the event was a delta without `partial`, as pi writes it. */
  #plainDelta = false;
  /** The key just read by {@link #key}: its bytes `[start, end)` and where its value starts. */
  #keyStart = 0;
  #keyEnd = 0;

  /**
   * Reads the `message_update` frame in `bytes[start, end)` (one line, no `\n`).
   *
   * @param bytes UTF-8 JSON text; a Node `Buffer` makes long strings and the resent copies cheap to cross.
   * @param start Index of the line's first byte.
   * @param end Index just past its last byte.
   * @return The frame's typed fields and its text without the resent copies, or `undefined`
   *   when the line is anything but valid JSON of the shape pi writes (the caller then parses it
   *   the slow way, which reports what is wrong).
   */
  scan(bytes: Uint8Array, start = 0, end = bytes.length): MessageUpdateScan | undefined {
    if (!startsLikeMessageUpdate(bytes, start, end)) return undefined;
    const json = this.#json.reset(bytes, end);
    const cuts: number[] = (this.#cuts = []);
    const typedTop: number[] = [];
    const typedEvent: number[] = (this.#typedEvent = []);
    let sawEvent = false;
    let partialStart = -1;
    let partialEnd = -1;
    this.#plainDelta = false;
    /** The untyped top-level members: how many, and the text of the one (when it is the memo). */
    let untyped = 0;
    let memberText: string | undefined;
    let memberLast = false;

    let cursor = start + PREFIX.length;
    for (;;) {
      cursor = json.space(cursor);
      let valueEnd: number;
      const memo = this.#memo;
      if (memo !== undefined && bytesAt(bytes, json.native, cursor, end, memo)) {
        valueEnd = cursor + memo.length; // the same member as last time: validated then
        untyped++;
        memberText = this.#memoText;
        memberLast = sawEvent;
      } else {
        const memberStart = cursor;
        const valueStart = this.#key(cursor);
        if (valueStart < 0) return undefined;
        if (this.#keyIs(KEY_TYPE)) {
          return undefined; // a second `type`: JSON.parse keeps the last one, let the slow path decide
        } else if (this.#keyIs(KEY_EVENT)) {
          if (sawEvent || bytes[valueStart] !== OPEN_OBJECT) return undefined;
          sawEvent = true;
          valueEnd = this.#event(valueStart);
          if (cuts.length >= 2) {
            partialStart = cuts[cuts.length - 2] as number;
            partialEnd = cuts[cuts.length - 1] as number;
          }
        } else if (this.#keyIs(KEY_MESSAGE)) {
          // pi 0.73 writes the same object as `partial` and `message`: when the bytes match, the
          // validated `partial` vouches for `message` too (a memcmp instead of a second scan).
          const length = partialEnd - partialStart;
          valueEnd =
            partialStart >= 0 && valueStart + length <= end && sameBytes(bytes, json.native, partialStart, valueStart, length)
              ? valueStart + length
              : json.cutValue(valueStart);
          if (valueEnd >= 0) cuts.push(valueStart, valueEnd);
        } else {
          valueEnd = json.value(valueStart);
          const typedIndex = this.#keyIndex(TYPED_FRAME_KEY_BYTES);
          if (typedIndex >= 0) {
            if (valueEnd >= 0) typedTop.push(typedIndex, valueStart, valueEnd, json.escaped ? 1 : 0);
          } else if (valueEnd >= 0) {
            untyped++;
            memberLast = sawEvent;
            memberText = undefined;
            if (valueEnd - memberStart <= MEMO_MAX_BYTES) {
              this.#memo = Uint8Array.prototype.slice.call(bytes, memberStart, valueEnd); // a copy (Buffer#slice is a view)
              this.#memoText = memberText = decodeUtf8(bytes, json.native, memberStart, valueEnd);
            }
          }
        }
        if (valueEnd < 0) return undefined;
      }
      cursor = json.space(valueEnd);
      if (cursor >= end) return undefined;
      const next = bytes[cursor];
      if (next === COMMA) {
        cursor++;
        continue;
      }
      if (next !== CLOSE_OBJECT || json.space(cursor + 1) !== end) return undefined;
      break;
    }
    if (!sawEvent) return undefined;

    if (this.#plainDelta && cuts.length === 0 && typedTop.length === 0 && (untyped === 0 || (untyped === 1 && memberText !== undefined))) {
      const scan = this.#recipe(untyped === 0 ? undefined : memberText, memberLast);
      if (scan) return scan;
    }
    const text = cuts.length === 0 ? decodeUtf8(bytes, json.native, start, end) : textWithout(bytes, json.native, start, end, cuts);
    // Typed values are sliced from `text` when it is the line and all ASCII (offsets then agree).
    const source = cuts.length === 0 && text.length === end - start ? text : undefined;
    const event: Record<string, unknown> = {};
    for (let index = 0; index < typedEvent.length; index += 4) {
      const name = TYPED_EVENT_KEYS[typedEvent[index] as number] as string;
      const valueStart = typedEvent[index + 1] as number;
      const valueEnd = typedEvent[index + 2] as number;
      event[name] =
        (name === 'type' && knownEventType(bytes, valueStart, valueEnd)) || this.#decode(valueStart, valueEnd, typedEvent[index + 3] === 1, source, start);
    }
    const frame: Record<string, unknown> = { type: 'message_update' };
    for (let index = 0; index < typedTop.length; index += 4) {
      frame[TYPED_FRAME_KEYS[typedTop[index] as number] as string] = this.#decode(
        typedTop[index + 1] as number,
        typedTop[index + 2] as number,
        typedTop[index + 3] === 1,
        source,
        start,
      );
    }
    frame['assistantMessageEvent'] = event;
    return { text, frame: frame as MessageUpdateScan['frame'], cut: cuts.length > 0 };
  }

  /**
   * The scan of a plain delta: its typed fields decoded, its raw kept as a recipe (no text);
   * `undefined` for a `contentIndex` JSON text can't carry back (`1e400` is Infinity).
   */
  #recipe(member: string | undefined, memberLast: boolean): MessageUpdateScan | undefined {
    const typed = this.#typedEvent; // type, contentIndex, delta (from #deltaEvent)
    const bytes = this.#json.bytes;
    const typeStart = typed[1] as number;
    const typeEnd = typed[2] as number;
    const type = knownEventType(bytes, typeStart, typeEnd) ?? (this.#decode(typeStart, typeEnd, typed[3] === 1, undefined, 0) as string);
    const contentIndex = this.#decode(typed[5] as number, typed[6] as number, false, undefined, 0) as number;
    if (!Number.isFinite(contentIndex)) return undefined;
    const delta = this.#decode(typed[9] as number, typed[10] as number, typed[11] === 1, undefined, 0) as string;
    const recipe: RawRecipe = { member, memberLast, type, contentIndex, delta };
    return new RecipeScan({ type: 'message_update', assistantMessageEvent: { type, contentIndex, delta } }, recipe);
  }

  /**
   * Reads `"key":` at `cursor` into {@link #keyStart}/{@link #keyEnd}; returns the index of its
   * value, or -1 if it isn't a key or the key has an escape (`"d\u0065lta"` names a key the byte
   * comparison would miss: slow path).
   */
  #key(cursor: number): number {
    const json = this.#json;
    const bytes = json.bytes;
    if (cursor >= json.end || bytes[cursor] !== QUOTE) return -1;
    const afterKey = json.string(cursor);
    if (afterKey < 0 || json.escaped) return -1;
    const colon = json.space(afterKey);
    if (colon >= json.end || bytes[colon] !== COLON) return -1;
    this.#keyStart = cursor + 1;
    this.#keyEnd = afterKey - 1;
    return json.space(colon + 1);
  }

  #keyIs(name: readonly number[]): boolean {
    const start = this.#keyStart;
    if (this.#keyEnd - start !== name.length) return false;
    const bytes = this.#json.bytes;
    for (let offset = 0; offset < name.length; offset++) if (bytes[start + offset] !== name[offset]) return false;
    return true;
  }

  /** Index of the key just read among `names`, or -1. */
  #keyIndex(names: readonly (readonly number[])[]): number {
    for (let index = 0; index < names.length; index++) if (this.#keyIs(names[index] as readonly number[])) return index;
    return -1;
  }

  /**
   * Walks the `assistantMessageEvent` object at `index`: records the spans of typed keys, cuts
   * `partial`, validates the rest. Returns the index past the object, or -1.
   */
  #event(index: number): number {
    const pattern = this.#deltaEvent(index);
    if (pattern !== NOT_THE_PATTERN) return pattern;
    const json = this.#json;
    const bytes = json.bytes;
    let cursor = json.space(index + 1);
    if (cursor < json.end && bytes[cursor] === CLOSE_OBJECT) return cursor + 1;
    for (;;) {
      const valueStart = this.#key(cursor);
      if (valueStart < 0) return -1;
      const isPartial = this.#keyIs(KEY_PARTIAL);
      const valueEnd = isPartial ? json.cutValue(valueStart) : json.value(valueStart);
      if (valueEnd < 0) return -1;
      if (isPartial) {
        this.#cuts.push(valueStart, valueEnd);
      } else {
        const typedIndex = this.#keyIndex(TYPED_EVENT_KEY_BYTES);
        if (typedIndex >= 0) this.#typedEvent.push(typedIndex, valueStart, valueEnd, json.escaped ? 1 : 0);
      }
      cursor = json.space(valueEnd);
      if (cursor >= json.end) return -1;
      const next = bytes[cursor];
      if (next === CLOSE_OBJECT) return cursor + 1;
      if (next !== COMMA) return -1;
      cursor = json.space(cursor + 1);
    }
  }

  /**
   * The event as pi writes a delta, byte for byte: `{"type":"…","contentIndex":…,"delta":"…"`,
   * then `}` or `,"partial":…}`. Matching the key bytes in place is much cheaper than reading
   * keys; any other event (or spacing, or order) returns {@link NOT_THE_PATTERN} and is walked
   * key by key.
   */
  #deltaEvent(index: number): number {
    const json = this.#json;
    const bytes = json.bytes;
    const end = json.end;
    let cursor = index;
    if (!bytesAre(bytes, cursor, end, DELTA_TYPE)) return NOT_THE_PATTERN;
    const typeStart = cursor + DELTA_TYPE.length - 1;
    cursor = json.string(typeStart);
    if (cursor < 0) return NOT_THE_PATTERN;
    const typeEscaped = json.escaped;
    const typeEnd = cursor;
    if (!bytesAre(bytes, cursor, end, DELTA_CONTENT_INDEX)) return NOT_THE_PATTERN;
    const indexStart = cursor + DELTA_CONTENT_INDEX.length;
    cursor = json.number(indexStart);
    if (cursor < 0) return NOT_THE_PATTERN;
    const indexEnd = cursor;
    if (!bytesAre(bytes, cursor, end, DELTA_DELTA)) return NOT_THE_PATTERN;
    const deltaStart = cursor + DELTA_DELTA.length - 1;
    cursor = json.string(deltaStart);
    if (cursor < 0) return NOT_THE_PATTERN;
    const deltaEscaped = json.escaped;
    const deltaEnd = cursor;
    let partialStart = -1;
    let partialEnd = -1;
    if (bytes[cursor] !== CLOSE_OBJECT) {
      if (!bytesAre(bytes, cursor, end, DELTA_PARTIAL)) return NOT_THE_PATTERN;
      partialStart = cursor + DELTA_PARTIAL.length;
      partialEnd = json.cutValue(partialStart);
      if (partialEnd < 0 || bytes[partialEnd] !== CLOSE_OBJECT) return NOT_THE_PATTERN;
      cursor = partialEnd;
    }
    if (partialStart >= 0) this.#cuts.push(partialStart, partialEnd);
    else this.#plainDelta = true;
    this.#typedEvent.push(TYPE_INDEX, typeStart, typeEnd, typeEscaped ? 1 : 0);
    this.#typedEvent.push(CONTENT_INDEX_INDEX, indexStart, indexEnd, 0);
    this.#typedEvent.push(DELTA_INDEX, deltaStart, deltaEnd, deltaEscaped ? 1 : 0);
    return cursor + 1;
  }

  /**
   * Decodes the (validated) JSON value in `[start, end)`; `escaped` says a string value had an
   * escape; `text` is the line's text when it can be sliced.
   */
  #decode(start: number, end: number, escaped: boolean, text: string | undefined, lineStart: number): unknown {
    const json = this.#json;
    const bytes = json.bytes;
    const first = bytes[start];
    if (first === QUOTE) {
      if (!escaped) {
        return text !== undefined ? text.slice(start + 1 - lineStart, end - 1 - lineStart) : decodeUtf8(bytes, json.native, start + 1, end - 1);
      }
    } else if (end - start <= 15) {
      // A small non-negative integer (a contentIndex) needs no parser.
      let value = 0;
      let index = start;
      for (; index < end; index++) {
        const byte = bytes[index] as number;
        if (byte < 0x30 || byte > 0x39) break;
        value = value * 10 + (byte - 0x30);
      }
      if (index === end) return value;
    }
    return JSON.parse(text !== undefined ? text.slice(start - lineStart, end - lineStart) : decodeUtf8(bytes, json.native, start, end)) as unknown;
  }
}

/** A plain delta's scan: the text is rebuilt from the recipe only if someone asks. */
class RecipeScan implements MessageUpdateScan {
  readonly cut = false;
  readonly frame: MessageUpdateScan['frame'];
  readonly recipe: RawRecipe;
  #text: string | undefined;

  constructor(frame: MessageUpdateScan['frame'], recipe: RawRecipe) {
    this.frame = frame;
    this.recipe = recipe;
  }

  get text(): string {
    this.#text ??= recipeText(this.recipe);
    return this.#text;
  }
}

const sharedScanner = new MessageUpdateScanner();

/** {@link MessageUpdateScanner.scan} on a scanner shared by callers that have none of their own. */
export function scanMessageUpdate(bytes: Uint8Array, start = 0, end = bytes.length): MessageUpdateScan | undefined {
  return sharedScanner.scan(bytes, start, end);
}

/** The line's text with every cut span replaced by `0`. */
function textWithout(bytes: Uint8Array, native: boolean, start: number, end: number, cuts: readonly number[]): string {
  let text = '';
  let from = start;
  for (let index = 0; index < cuts.length; index += 2) {
    text += `${decodeUtf8(bytes, native, from, cuts[index] as number)}0`;
    from = cuts[index + 1] as number;
  }
  return text + decodeUtf8(bytes, native, from, end);
}

/** {@link MessageUpdateScanner.#deltaEvent}: the event is not a delta laid out as pi writes it. */
const NOT_THE_PATTERN = -2;
const DELTA_TYPE = bytesOf('{"type":"');
const DELTA_CONTENT_INDEX = bytesOf(',"contentIndex":');
const DELTA_DELTA = bytesOf(',"delta":"');
const DELTA_PARTIAL = bytesOf(',"partial":');
const TYPE_INDEX = TYPED_EVENT_KEYS.indexOf('type');
const CONTENT_INDEX_INDEX = TYPED_EVENT_KEYS.indexOf('contentIndex');
const DELTA_INDEX = TYPED_EVENT_KEYS.indexOf('delta');

function bytesAre(bytes: Uint8Array, at: number, end: number, expected: readonly number[]): boolean {
  if (at + expected.length > end) return false;
  for (let offset = 0; offset < expected.length; offset++) if (bytes[at + offset] !== expected[offset]) return false;
  return true;
}

/** The `assistantMessageEvent` types pi sends, as constants (no string made per frame). */
const EVENT_TYPES = [
  'text_delta',
  'thinking_delta',
  'toolcall_delta',
  'text_start',
  'text_end',
  'thinking_start',
  'thinking_end',
  'toolcall_start',
  'toolcall_end',
  'start',
  'done',
  'error',
];
const EVENT_TYPE_BYTES = EVENT_TYPES.map(bytesOf);

/** The constant for the (escape-free) string value in `bytes[start, end)` if it is a known event type. */
function knownEventType(bytes: Uint8Array, start: number, end: number): string | undefined {
  const length = end - start - 2;
  if (bytes[start] !== QUOTE) return undefined;
  next: for (let index = 0; index < EVENT_TYPE_BYTES.length; index++) {
    const name = EVENT_TYPE_BYTES[index] as readonly number[];
    if (name.length !== length) continue;
    for (let offset = 0; offset < length; offset++) if (bytes[start + 1 + offset] !== name[offset]) continue next;
    return EVENT_TYPES[index];
  }
  return undefined;
}
