/**
 * SubprocessTransport on a Node whose socket internals readIntoReusedBuffer doesn't know (mocked
 * to refuse): stdout is read through 'data' events, with the same lines and the same contract.
 */
import { lastValueFrom, map, takeWhile, timeout, toArray } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { ScannedLine } from '../../src/transport/LineSplitter.js';
import { SubprocessTransport } from '../../src/transport/SubprocessTransport.js';
import { FAKE_PI, scratchCwd } from '../reliability/fakePi.js';

vi.mock('../../src/transport/readIntoReusedBuffer.js', () => ({ readIntoReusedBuffer: () => false }));

describe('SubprocessTransport without the reused read buffer', () => {
  it('reads stdout through data events and delivers the same lines', async () => {
    const deltas = 5_000;
    const transport = new SubprocessTransport(PiConfig.parse({ binary: FAKE_PI, extraEnv: { FAKE_PI_DELTAS: String(deltas) } }), { cwd: scratchCwd() });
    await transport.start();
    try {
      expect(transport.readsIntoReusedBuffer).toBe(false);
      await transport.send({ id: 'p', type: 'prompt', message: 'go' });
      const lines = await lastValueFrom(
        transport.lines$.pipe(
          map((line) => (line instanceof ScannedLine ? line.line : typeof line === 'string' ? line : `oversize ${line.bytes}`)),
          takeWhile((text) => !text.startsWith('{"type":"agent_end"'), true),
          toArray(),
          timeout(30_000),
        ),
      );
      const updates = lines.filter((text) => text.startsWith('{"type":"message_update"'));
      expect(updates).toHaveLength(deltas);
      expect(updates.at(-1)).toBe(
        JSON.stringify({ type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: `d${deltas - 1} ` } }),
      );
    } finally {
      expect(await transport.close()).toMatchObject({ escalation: 'eof' });
    }
  });
});
