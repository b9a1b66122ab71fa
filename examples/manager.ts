/**
 * Many sessions: a PiSessionManager fans one task out to three pi sessions, merges their
 * events into one stream, and uses `switchMap` so a newer prompt cancels a superseded one.
 *
 * `npx tsx examples/manager.ts` (offline: the bundled fake LLM and the real pi CLI).
 */
import { pathToFileURL } from 'node:url';
import { filter, lastValueFrom, map, Subject, switchMap, take, toArray } from 'rxjs';
import { isManagerNotice, ofType, PiClient, PiSessionManager } from 'pidriver';
import { startFakePiEnv } from 'pidriver/testing';

export async function main(log: (line: string) => void = console.log): Promise<void> {
  await using env = await startFakePiEnv();
  const client = new PiClient({ config: env.config, approve: 'none' });
  await using manager = new PiSessionManager({ factory: (options) => client.start(options), maxSessions: 5, idleTimeoutMs: 60_000 });
  manager.closeOnExit(); // Ctrl-C stops every pi first

  // 1. Fan out: three sessions, one merged event stream.
  const sessions = await Promise.all(['alpha', 'beta', 'gamma'].map((sessionId) => manager.create({ cwd: env.cwd, sessionId })));
  const finished = manager.events$.pipe(
    filter((event) => !isManagerNotice(event) && event.type === 'agent_end'),
    map((event) => (isManagerNotice(event) ? '' : `${event.sessionId}: ${event.type === 'agent_end' ? event.finalText : ''}`)),
  );
  const firstThree = lastValueFrom(finished.pipe(take(3), toArray()));
  for (const session of sessions) void session.prompt(`scenario:text [[text:${session.sessionId} is done]]`);
  for (const line of await firstThree) log(`  ${line}`);
  log(`usage across the manager: ${manager.usage.totalTokens} tokens`);

  // 2. switchMap: each new question cancels the previous run (prompt$ aborts on unsubscribe).
  const alpha = manager.get('alpha');
  const questions = new Subject<string>();
  const answers = questions.pipe(
    switchMap((question) => alpha.prompt$(question).pipe(ofType('agent_end'))),
    map((end) => `${end.reason}: ${JSON.stringify(end.finalText)}`),
  );
  const done = lastValueFrom(answers.pipe(toArray()));
  questions.next('scenario:slow:100:20'); // slow: superseded before it finishes
  setTimeout(() => {
    questions.next('scenario:text [[text:the newer question wins]]');
    questions.complete();
  }, 300);
  for (const line of await done) log(`  alpha → ${line}`);

  const stopped = await manager.stopAll();
  log(`stopped: ${stopped.map((result) => `${result.sessionId}=${result.status}`).join(', ')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
