/**
 * A session's start and end (SessionLifecycle, through PiSession over a FakeTransport).
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { TransportClosedError } from '../../src/errors.js';
import { PiSession } from '../../src/session/PiSession.js';
import { FakeTransport } from '../../src/testing/FakeTransport.js';
import type { CloseResult } from '../../src/transport/PiTransport.js';

const config = PiConfig.parse({ requestTimeoutMs: 1_000, startTimeoutMs: 1_000, terminateTimeoutMs: 10 });

describe('SessionLifecycle', () => {
  it('start(signal) leaves no abort listener behind once started', async () => {
    const controller = new AbortController();
    const session = new PiSession({ sessionId: 's1', transport: new FakeTransport(), config, cwd: '/work' });
    await session.start(controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await session.close();
  });

  it('pi dies and reaping its tree fails: events$ errors with TransportClosedError, nothing unhandled', async () => {
    class FailingClose extends FakeTransport {
      override close(): Promise<CloseResult> {
        return Promise.reject(new Error('kill failed'));
      }
    }
    const transport = new FailingClose();
    const session = new PiSession({ sessionId: 's1', transport, config, cwd: '/work' });
    const ended = new Promise<unknown>((resolve) => session.events$.subscribe({ error: resolve, complete: () => resolve('completed') }));
    await session.start();
    transport.exit(1);
    expect(await ended).toBeInstanceOf(TransportClosedError);
    expect(session.state.status).toBe('closed');
    // (spec/helpers/setup.ts fails this test if a rejection went unhandled)
  });
});
