/** sessionHandler refuses bad bounds, durations and tokens when it is created, with a typed error naming the option. */
import { describe, expect, it } from 'vitest';
import { defaultAuthorize, sessionHandler, type SessionHandlerOptions } from '../../src/bridge/index.js';
import { PiConfigError } from '../../src/errors.js';
import { scriptedSession } from './helpers.js';

const { session } = await scriptedSession();

function errorOf(create: () => unknown): PiConfigError {
  try {
    create();
  } catch (error) {
    expect(error).toBeInstanceOf(PiConfigError);
    return error as PiConfigError;
  }
  throw new Error('expected a PiConfigError');
}

describe('sessionHandler options', () => {
  it.each<[keyof SessionHandlerOptions, unknown]>([
    ['heartbeatMs', -1],
    ['heartbeatMs', Number.NaN],
    ['heartbeatMs', 0],
    ['dropGraceMs', -5],
    ['dropGraceMs', Number.NaN],
    ['maxBufferedBytes', 0],
    ['maxBufferedEvents', -1],
    ['maxTotalBufferedBytes', Number.NaN],
    ['maxStreams', 0],
    ['maxBodyBytes', -1],
  ])('refuses %s: %s', (field, value) => {
    const error = errorOf(() => sessionHandler(session, { [field]: value }));
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('accepts durations of any length (Infinity: never), a null heartbeat, and unbounded sizes', () => {
    expect(() =>
      sessionHandler(session, {
        heartbeatMs: 2 ** 40,
        dropGraceMs: Infinity,
        maxBufferedBytes: Infinity,
        maxTotalBufferedBytes: Infinity,
        maxStreams: Infinity,
      }),
    ).not.toThrow();
    expect(() => sessionHandler(session, { heartbeatMs: null, dropGraceMs: 0 })).not.toThrow();
  });
});

describe('token', () => {
  it.each([
    ['empty (a set-but-empty environment variable)', ''],
    ['short', 's3cret'],
    ['15 characters', 'x'.repeat(15)],
    ['padded', ` ${'x'.repeat(20)} `],
  ])('refuses a token that is %s, naming the option and never printing the token', (_name, token) => {
    for (const create of [() => sessionHandler(session, { token }), () => defaultAuthorize({ token })]) {
      const error = errorOf(create);
      expect(error.field).toBe('token');
      expect(error.code).toBe('PI_CONFIG_INVALID');
      if (token.trim().length > 0) expect(error.message).not.toContain(token.trim());
    }
  });

  it('accepts 16 characters or more, and no token at all', () => {
    expect(() => sessionHandler(session, { token: 'x'.repeat(16) })).not.toThrow();
    expect(() => sessionHandler(session, {})).not.toThrow();
    expect(() => sessionHandler(session, { token: undefined })).not.toThrow();
  });
});
