import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { closeOnExit } from '../../src/manager/closeOnExit.js';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import { deferred, LiveFakeSession } from '../helpers/fakeSession.js';

class FakeProcess extends EventEmitter {
  readonly pid = 4242;
  readonly kills: unknown[][] = [];
  readonly killed = deferred<unknown[]>();
  kill(...args: unknown[]): boolean {
    this.kills.push(args);
    this.killed.resolve(args);
    return true;
  }
}
const hooks = (proc: EventEmitter) => ['SIGINT', 'SIGTERM', 'beforeExit'].map((e) => proc.listenerCount(e));
const manager = () => new PiSessionManager({ idleTimeoutMs: null });

describe('closeOnExit', () => {
  it('shares one listener per event among all hooks, and removes it with the last hook', () => {
    const proc = new FakeProcess();
    const unhooks = Array.from({ length: 12 }, () => manager().closeOnExit({ process: proc }));
    const termOnly = closeOnExit(manager(), { process: proc, signals: ['SIGTERM'] });
    expect(hooks(proc)).toEqual([1, 1, 1]);
    for (const unhook of unhooks.slice(1)) unhook();
    expect(hooks(proc)).toEqual([1, 1, 1]);
    unhooks[0]!();
    expect(hooks(proc)).toEqual([0, 1, 1]);
    termOnly();
    expect(hooks(proc)).toEqual([0, 0, 0]);
  });

  it('hooks 12 managers on the real process with one listener each and no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const before = hooks(process);
    const managers = Array.from({ length: 12 }, manager);
    try {
      for (const each of managers) each.closeOnExit();
      expect(hooks(process)).toEqual(before.map((count) => count + 1));
      await new Promise<void>((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      await Promise.all(managers.map((each) => each.dispose()));
      process.off('warning', onWarning);
    }
    expect(hooks(process)).toEqual(before);
  });

  it("a manager's dispose removes its hooks; the listener stays while another manager is hooked", async () => {
    const proc = new FakeProcess();
    const first = manager();
    const second = manager();
    first.closeOnExit({ process: proc });
    first.closeOnExit({ process: proc, signals: ['SIGTERM'] });
    second.closeOnExit({ process: proc });
    await first.dispose();
    expect(hooks(proc)).toEqual([1, 1, 1]);
    await second.dispose();
    expect(hooks(proc)).toEqual([0, 0, 0]);
    // A disposed manager has nothing to stop: it hooks nothing.
    second.closeOnExit({ process: proc })();
    expect(hooks(proc)).toEqual([0, 0, 0]);
    proc.emit('SIGINT', 'SIGINT');
    expect(proc.kills).toEqual([]);
  });

  it('a signal during dispose still finds the hook, which waits for the sessions', async () => {
    const proc = new FakeProcess();
    const closing = deferred<unknown>();
    const first = manager();
    const session = new LiveFakeSession('s1', { close: () => closing.promise });
    first.register(session);
    first.closeOnExit({ process: proc });
    const disposed = first.dispose();
    expect(hooks(proc)).toEqual([1, 1, 1]);
    proc.emit('SIGTERM', 'SIGTERM');
    expect(hooks(proc)).toEqual([0, 0, 0]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(proc.kills).toEqual([]);
    closing.resolve({ exitCode: 0, signal: null, stderrTail: '', escalation: 'eof' });
    expect(await proc.killed.promise).toEqual([4242, 'SIGTERM']);
    await disposed;
  });

  it('on SIGINT stops the sessions of every hooked manager, then re-raises once', async () => {
    const proc = new FakeProcess();
    const closings = [deferred<unknown>(), deferred<unknown>()];
    const sessions = closings.map((closing, index) => new LiveFakeSession(`s${index}`, { close: () => closing.promise }));
    for (const session of sessions) {
      const each = manager();
      each.register(session);
      each.closeOnExit({ process: proc });
    }
    proc.emit('SIGINT', 'SIGINT');
    expect(hooks(proc)).toEqual([0, 0, 0]);
    closings[0]!.resolve({ exitCode: 0, signal: null, stderrTail: '', escalation: 'eof' });
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(proc.kills).toEqual([]); // the second manager is still stopping its session
    closings[1]!.resolve({ exitCode: 0, signal: null, stderrTail: '', escalation: 'eof' });
    expect(await proc.killed.promise).toEqual([4242, 'SIGINT']);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(proc.kills).toEqual([[4242, 'SIGINT']]);
    expect(sessions.map((session) => session.closeCalls)).toEqual([1, 1]);
  });
});
