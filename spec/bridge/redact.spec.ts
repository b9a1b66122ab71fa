import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/bridge/redact.js';

describe('createRedactor', () => {
  const token = 'tok+en/with=odd&chars-0123456789';
  const redact = createRedactor([token, undefined, '']);

  it('removes the token, raw or URL-encoded, wherever it appears', () => {
    expect(redact(`failed for ${token}!`)).toBe('failed for [redacted]!');
    expect(redact(`/events?token=${encodeURIComponent(token)}&who=me`)).toBe('/events?token=[redacted]&who=me');
  });

  it('removes token-like query values and Bearer credentials it was not told about', () => {
    expect(redact('/events?access_token=abc&lastEventId=4&api_key=k1&X-Amz-Signature=s&who=me')).toBe(
      '/events?access_token=[redacted]&lastEventId=4&api_key=[redacted]&X-Amz-Signature=[redacted]&who=me',
    );
    expect(redact('GET https://host/x?password=hunter2#frag')).toBe('GET https://host/x?password=[redacted]#frag');
    expect(redact('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [redacted]');
  });

  it('leaves other text alone', () => {
    expect(redact('/events?who=me&lastEventId=3')).toBe('/events?who=me&lastEventId=3');
  });
});
