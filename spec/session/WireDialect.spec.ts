import { describe, expect, it } from 'vitest';
import { WireDialect } from '../../src/session/WireDialect.js';
import { lastValueFrom, of, throwError, VirtualTimeScheduler } from 'rxjs';

const options = (dialect: 'pi-0.73' | 'pi-1' | 'omp', version?: string) => ({
  dialect,
  version,
  scheduler: new VirtualTimeScheduler(),
  startTimeoutMs: 1_000,
  stderrTail: () => 'tail',
});

describe('WireDialect', () => {
  it('the wire corrects a guess, and a settled signal makes this pi end its runs itself', () => {
    const dialect = new WireDialect(options('pi-0.73'));
    expect(dialect.endsRunsItself).toBe(false);
    dialect.learnFromPromptAnswer({ disposition: 'started' });
    expect(dialect.capabilities.dialect).toBe('pi-1');
    expect(dialect.endsRunsItself).toBe(false); // no version known, no signal seen yet
    dialect.sawSettledSignal();
    expect(dialect.endsRunsItself).toBe(true);
  });

  it('omp: waits for ready, then negotiates protocol v2 when offered', async () => {
    const dialect = new WireDialect(options('omp'));
    const sent: unknown[] = [];
    const handshake = lastValueFrom(dialect.handshake$((command) => (sent.push(command), of({ protocolVersion: 2 }))));
    dialect.onReady({ type: 'ready', supportedProtocolVersions: [1, 2] } as never);
    await handshake;
    expect(sent).toEqual([{ type: 'negotiate_protocol', protocolVersion: 2 }]);
    expect(dialect.protocolVersion).toBe(2);
  });

  it('omp: no ready frame within startTimeoutMs is a PiStartError (virtual time)', async () => {
    const scheduler = new VirtualTimeScheduler();
    const dialect = new WireDialect({ ...options('omp'), scheduler });
    const handshake = lastValueFrom(dialect.handshake$(() => of(undefined)));
    scheduler.flush();
    await expect(handshake).rejects.toThrow(/no ready frame within 1000 ms/);
  });

  it('pi has no ready frame: the handshake is done at once', async () => {
    await expect(lastValueFrom(new WireDialect(options('pi-0.73')).handshake$(() => throwError(() => new Error('not sent'))))).resolves.toBeUndefined();
  });
});
