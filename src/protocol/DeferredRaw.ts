import { recipeText, type RawRecipe } from './scanMessageUpdate.js';

/**
 * The `raw` of a frame read by the fast path ({@link scanMessageUpdate}), decoded on first use:
 * most consumers never look at `raw`, and decoding it is what the fast path saves. The value is
 * exactly the slow path's `raw`: the frame's JSON with the resent partial message (`message`,
 * `assistantMessageEvent.partial`) removed.
 *
 * @internal Sessions turn it into a lazy `raw` property of their events.
 */
export class DeferredRaw {
  /** The frame's text without the resent copies (already validated as JSON), or a plain delta's parts. */
  readonly source: string | RawRecipe;
  #value: Record<string, unknown> | undefined;

  constructor(source: string | RawRecipe) {
    this.source = source;
  }

  /** About how many bytes keeping it costs (for the replay window's byte bound). */
  get size(): number {
    const source = this.source;
    return typeof source === 'string' ? source.length : 96 + source.delta.length;
  }

  /** The decoded frame (decoded once, then the same object). */
  get value(): Record<string, unknown> {
    this.#value ??= decodeRaw(this.source);
    return this.#value;
  }
}

/** `JSON.parse` of a `message_update` frame, without the resent copies of the partial message. */
export function decodeRaw(source: string | RawRecipe): Record<string, unknown> {
  const record = JSON.parse(typeof source === 'string' ? source : recipeText(source)) as Record<string, unknown>;
  stripResentMessage(record);
  return record;
}

/** Drops the resent copies from a parsed `message_update` frame, so `raw` stays small. */
export function stripResentMessage(record: Record<string, unknown>): void {
  delete record['message'];
  const event = record['assistantMessageEvent'];
  if (typeof event === 'object' && event !== null) delete (event as Record<string, unknown>)['partial'];
}

/**
 * Gives `target` (a fresh event, before its `raw`) an enumerable `raw` property read from
 * `deferred` on first access: spreads, `JSON.stringify` and equality checks see the decoded
 * value; assigning replaces it with a plain value.
 *
 * @internal
 */
export function defineDeferredRaw<T extends object>(target: T, deferred: DeferredRaw): T {
  // One accessor pair shared by every such event keeps V8's fast object layout (a getter
  // closure per object would not); the DeferredRaw itself rides in an invisible private slot.
  new DeferredSlot(target, deferred);
  Object.defineProperty(target, 'raw', RAW_PROPERTY);
  return target;
}

/** Lets a class constructor return an existing object, so the subclass's private field lands on it. */
class ReturnTarget {
  constructor(target: object) {
    return target;
  }
}

/**
 * Private fields on the event: not keys, not symbols, invisible to spreads and equality checks.
 * They hold the text or recipe itself (not the DeferredRaw: one object less per event a replay
 * window keeps; a deferred frame makes at most one event). A recipe's strings are shared: the
 * delta is the event's own `text`, the other member the same string for every frame repeating it.
 */
class DeferredSlot extends ReturnTarget {
  #source: string | RawRecipe | undefined;
  #value: Record<string, unknown> | undefined;

  constructor(target: object, deferred: DeferredRaw) {
    super(target);
    this.#source = deferred.source;
  }

  static read(target: object): unknown {
    if (!(#source in target)) return undefined;
    const slot = target;
    if (slot.#source !== undefined) {
      slot.#value = decodeRaw(slot.#source);
      slot.#source = undefined;
    }
    return slot.#value;
  }
}

const RAW_PROPERTY: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: object): unknown {
    return DeferredSlot.read(this);
  },
  set(this: object, value: unknown): void {
    Object.defineProperty(this, 'raw', { value, enumerable: true, configurable: true, writable: true });
  },
};
