/**
 * Many sessions: a PiSessionManager fans one task out to three pi sessions, merges their
 * events into one stream, and uses `switchMap` so a newer prompt cancels a superseded one.
 *
 * `npx tsx examples/manager.ts` (offline: the bundled fake LLM and the real pi CLI).
 */
import { pathToFileURL } from 'node:url';
import { filter, firstValueFrom, lastValueFrom, map, merge, share, Subject, switchMap, take, toArray } from 'rxjs';
import { isManagerNotice, ofType, PiClient, PiSessionManager } from 'pidriver';
import { startFakePiEnv } from 'pidriver/testing';

export async function main(log: (line: string) => void = console.log): Promise<void> {
  await using env = await startFakePiEnv();
  const client = new PiClient({ config: env.config, approve: 'none' });
  await using manager = new PiSessionManager({ factory: (options) => client.start(options), maxSessions: 5, idleTimeoutMs: 60_000 });
  manager.closeOnExit(); // Ctrl-C stops every pi first
  const notices: string[] = [];
  manager.events$.pipe(filter(isManagerNotice)).subscribe((notice) => notices.push(notice.type));

  // 1. Fan out: three sessions, their events merged into one stream with RxJS `merge`
  //    (`manager.events$` is the same merge, plus the manager's own notices).
  const sessions = await Promise.all(['alpha', 'beta', 'gamma'].map((sessionId) => manager.create({ cwd: env.cwd, sessionId })));
  const finished = merge(...sessions.map((session) => session.events$)).pipe(
    ofType('agent_end'),
    map((end) => `${end.sessionId}: ${end.finalText}`),
  );
  const allThree = lastValueFrom(finished.pipe(take(sessions.length), toArray()));
  for (const session of sessions) void session.prompt(`scenario:text [[text:${session.sessionId} is done]]`);
  for (const line of await allThree) log(`  ${line}`);
  log(`usage across the manager: ${manager.usage.totalTokens} tokens`);

  // 2. switchMap: each new question cancels the previous run (prompt$ aborts on unsubscribe), so
  //    only the newest question's agent_end comes through.
  const alpha = manager.get('alpha');
  const questions = new Subject<string>();
  const runs = questions.pipe(
    switchMap((question) => alpha.prompt$(question)),
    share(),
  );
  const answers = lastValueFrom(
    runs.pipe(
      ofType('agent_end'),
      map((end) => `${end.reason}: ${JSON.stringify(end.finalText)}`),
      toArray(),
    ),
  );
  // As soon as the slow answer starts streaming, a newer question supersedes it.
  const supersede = firstValueFrom(runs.pipe(ofType('message_delta'))).then(() => {
    questions.next('scenario:text [[text:the newer question wins]]');
    questions.complete();
  });
  questions.next('scenario:slow:100:20');
  await supersede;
  for (const line of await answers) log(`  alpha → ${line}`);
  log(`manager notices so far: ${notices.join(', ')}`);

  const stopped = await manager.stopAll();
  log(`stopped: ${stopped.map((result) => `${result.sessionId}=${result.status}`).join(', ')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
