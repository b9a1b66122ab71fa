/**
 * `client.start({ tools })` refuses what is not a host tool, names clashing with built-in tools,
 * and two tools with one name, before anything is spawned.
 */
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { PiConfigError } from '../../src/errors.js';
import { PiClient } from '../../src/session/PiClient.js';
import { FakeTransport } from '../../src/testing/FakeTransport.js';
import { hostTool } from '../../src/tools/hostTool.js';

const tool = (name: string) => hostTool({ name, description: 'A tool.', parameters: z.object({}), execute: () => 'ok' });

describe('client.start({ tools })', () => {
  const client = new PiClient({ transportFactory: () => new FakeTransport() });

  it.each([
    ['a string (the built-in allowlist is config.tools)', ['read'], /config\.tools/],
    ['a plain object', [{ name: 'x' }], /not a host tool/],
    ['a built-in name', [tool('bash')], /built-in tool/],
    ['the result tool’s name', [tool('submit_result')], /built-in tool/],
    ['two tools with one name', [tool('a'), tool('a')], /two host tools/],
  ])('refuses %s with a PiConfigError naming tools', async (_what, tools, message) => {
    const error = await client.start({ tools: tools as never }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiConfigError);
    expect(error).toMatchObject({ field: 'tools', message: expect.stringMatching(message) });
  });
});
