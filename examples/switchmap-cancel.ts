/**
 * A new prompt cancels the run of the previous one, with `switchMap`.
 *
 * `switchMap` unsubscribes from the previous inner Observable when a new value arrives, and
 * unsubscribing from `session.prompt$()` aborts that run (pi itself stays up). So only the newest
 * prompt's run finishes, like a search box that drops stale queries. Here an impatient user asks
 * again as soon as each answer starts streaming.
 *
 * `npx tsx examples/switchmap-cancel.ts` (offline: the bundled fake LLM and the real pi CLI).
 */
import { pathToFileURL } from 'node:url';
import { firstValueFrom, lastValueFrom, share, Subject, switchMap, take, toArray } from 'rxjs';
import { ofType, PiClient } from 'pidriver';
import { startFakePiEnv } from 'pidriver/testing';

// With the fake LLM, `slow:N:MS` streams N words, one every MS ms: long enough to be superseded.
const DRAFTS = ['scenario:slow:50:20 What is RxJS?', 'scenario:slow:50:20 What is RxJS, in one line?'];
const FINAL = 'scenario:text [[text:RxJS: events over time, composed with operators.]]';

export async function main(log: (line: string) => void = console.log): Promise<void> {
  await using env = await startFakePiEnv();
  const client = new PiClient({ config: env.config });
  await using session = await client.start({ cwd: env.cwd });

  // How every run ends, the cancelled ones included: a cancelled prompt$() goes quiet, events$ does not.
  const ends = lastValueFrom(session.events$.pipe(ofType('agent_end'), take(DRAFTS.length + 1), toArray()));

  const prompts = new Subject<string>();
  const latest$ = prompts.pipe(
    switchMap((prompt) => session.prompt$(prompt)),
    share(),
  );
  const answer = lastValueFrom(latest$.pipe(ofType('agent_end')));

  for (const draft of DRAFTS) {
    const streaming = firstValueFrom(latest$.pipe(ofType('message_delta')));
    prompts.next(draft);
    await streaming; // the answer started: the user changes their mind
  }
  prompts.next(FINAL);
  prompts.complete();

  log(`answer: ${(await answer).finalText}`);
  for (const [index, end] of (await ends).entries()) log(`  run ${index + 1}: ${end.reason}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
