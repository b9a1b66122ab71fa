/**
 * The same session-lifecycle program for every dialect's opt-in suite: a persisted session with
 * `restart`, its entries, a fork, a crash and the restart on the fork's file. Each step's outcome
 * goes into a report the suites compare.
 */
import { filter, firstValueFrom, timeout } from 'rxjs';
import type { PiConfig } from '../../src/config/PiConfig.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import type { FakePiEnv } from '../../src/testing/fakePiEnv.js';

export interface LifecycleReport {
  readonly userEntries: number;
  readonly forkText: string;
  readonly forkChangedId: boolean;
  readonly restartedOnFork: boolean;
  readonly historyAfterRestart: { readonly first: boolean; readonly second: boolean; readonly third: boolean };
}

export const EXPECTED_LIFECYCLE: LifecycleReport = {
  userEntries: 2,
  forkText: 'second KIWI',
  forkChangedId: true,
  restartedOnFork: true,
  historyAfterRestart: { first: true, second: false, third: true },
};

/** Runs the program on `config` (a persisted session is made of it); the session is returned for closing. */
export async function runLifecycle(config: PiConfig, env: FakePiEnv): Promise<{ readonly report: LifecycleReport; readonly session: PiSession }> {
  const client = new PiClient({ config: config.with({ session: true }), approve: 'none' });
  const session = await client.start({ cwd: env.cwd, restart: { backoffMs: 50 } });
  await session.prompt('scenario:text first MANGO');
  await session.prompt('scenario:text second KIWI');
  const users = (await session.getEntries()).entries.filter(
    (entry) => entry.type === 'message' && (entry['message'] as { readonly role?: string } | undefined)?.role === 'user',
  );
  const before = session.piSessionId;
  const forked = await session.fork(users[1]?.id ?? 'missing');
  const forkId = session.piSessionId;
  await session.prompt('scenario:text third LIME');
  const back = firstValueFrom(
    session.events$.pipe(
      filter((event): event is Extract<PiEvent, { type: 'session_restarted' }> => event.type === 'session_restarted'),
      timeout(60_000),
    ),
  );
  process.kill(session.pid as number, 'SIGKILL');
  await back;
  const requests = env.llm.requests.length;
  await session.prompt('scenario:text fourth');
  const body = JSON.stringify(env.llm.requests[requests]?.body);
  return {
    session,
    report: {
      userEntries: users.length,
      forkText: forked.text.replace(/^scenario:text /, ''),
      forkChangedId: forkId !== before,
      restartedOnFork: session.piSessionId === forkId,
      historyAfterRestart: { first: body.includes('MANGO'), second: body.includes('KIWI'), third: body.includes('LIME') },
    },
  };
}
