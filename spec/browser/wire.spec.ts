/**
 * The wire schemas restate `PiEventSchema`'s union (two members revive `usage`): they must not
 * drift apart, or the browser would reject an event type the session emits.
 */
import { describe, expect, it } from 'vitest';
import { PiEventWireSchema } from '../../src/browser/wire.js';
import { PiEventSchema } from '../../src/protocol/events.js';

const typesOf = (union: { readonly options: readonly { readonly shape: { readonly type: { readonly value: unknown } } }[] }) =>
  union.options.map((option) => option.shape.type.value);

describe('PiEventWireSchema', () => {
  it('covers exactly the event types of PiEventSchema, in the same order', () => {
    expect(typesOf(PiEventWireSchema)).toEqual(typesOf(PiEventSchema));
  });
});
