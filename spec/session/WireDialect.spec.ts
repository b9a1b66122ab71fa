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

  it('omp: waits for ready, then negotiates protocol v2 when offered, then asks for its subagents’ frames', async () => {
    const dialect = new WireDialect(options('omp'));
    const sent: unknown[] = [];
    const handshake = lastValueFrom(dialect.handshake$((command) => (sent.push(command), of({ protocolVersion: 2 }))));
    dialect.onReady({ type: 'ready', supportedProtocolVersions: [1, 2] } as never);
    await handshake;
    expect(sent).toEqual([
      { type: 'negotiate_protocol', protocolVersion: 2 },
      { type: 'set_subagent_subscription', level: 'events' },
    ]);
    expect(dialect.protocolVersion).toBe(2);
    expect(dialect.capabilities.subagents).toBe(true);
  });

  it('omp: an omp that refuses the subagent subscription (or v2) still starts', async () => {
    const dialect = new WireDialect(options('omp', '18.2.3'));
    const sent: string[] = [];
    const handshake = lastValueFrom(dialect.handshake$((command) => (sent.push(command.type), throwError(() => new Error(`refused ${command.type}`)))));
    dialect.onReady({ type: 'ready', supportedProtocolVersions: [1, 2] } as never);
    await expect(handshake).resolves.toBeUndefined();
    expect(sent).toEqual(['negotiate_protocol', 'set_subagent_subscription']);
    expect(dialect.protocolVersion).toBe(1);
  });

  it('omp without protocol v2 still asks for its subagents’ frames', async () => {
    const dialect = new WireDialect(options('omp'));
    const sent: unknown[] = [];
    const handshake = lastValueFrom(dialect.handshake$((command) => (sent.push(command), of({ level: 'events' }))));
    dialect.onReady({ type: 'ready', supportedProtocolVersions: [1] } as never);
    await handshake;
    expect(sent).toEqual([{ type: 'set_subagent_subscription', level: 'events' }]);
  });

  it('omp: no ready frame within startTimeoutMs is a PiStartError (virtual time)', async () => {
    const scheduler = new VirtualTimeScheduler();
    const dialect = new WireDialect({ ...options('omp'), scheduler });
    const handshake = lastValueFrom(dialect.handshake$(() => of(undefined)));
    scheduler.flush();
    await expect(handshake).rejects.toThrow(/no ready frame within 1000 ms/);
  });

  it('pi has no ready frame (nor subagents): the handshake is done at once, nothing sent', async () => {
    for (const dialect of ['pi-0.73', 'pi-1'] as const) {
      const wire = new WireDialect(options(dialect));
      expect(wire.capabilities.subagents).toBe(false);
      await expect(lastValueFrom(wire.handshake$(() => throwError(() => new Error('not sent'))))).resolves.toBeUndefined();
    }
  });
});
