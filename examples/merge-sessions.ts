/**
 * Fan one task out to several sessions, keep the first answer, cancel the rest.
 *
 * Each contestant works on the same task in its own pi session (in real life: different models,
 * prompts or settings). Their runs are merged into one stream with `merge`, and the first
 * `agent_end` wins: `firstValueFrom` then unsubscribes from the merge, which unsubscribes from
 * every other `prompt$()`, and unsubscribing from `prompt$()` aborts its run. The losers' runs end
 * `cancelled`; their pi processes stay up, ready for the next task.
 *
 * `npx tsx examples/merge-sessions.ts` (offline: the bundled fake LLM and the real pi CLI).
 */
import { pathToFileURL } from 'node:url';
import { firstValueFrom, merge } from 'rxjs';
import { ofType, PiClient, PiSessionManager } from 'pidriver';
import { startFakePiEnv } from 'pidriver/testing';

const TASK = 'Summarize this project in one line.';

// With the fake LLM, the prompt sets each contestant's pace: `slow:N:MS` streams N words, one every MS ms.
const PACES = { hare: 'slow:3:10', tortoise: 'slow:300:20', snail: 'slow:300:50' };

export async function main(log: (line: string) => void = console.log): Promise<void> {
  await using env = await startFakePiEnv();
  const client = new PiClient({ config: env.config });
  await using manager = new PiSessionManager({ factory: (options) => client.start(options) });
  const contestants = await Promise.all(
    Object.entries(PACES).map(async ([sessionId, pace]) => ({
      session: await manager.create({ cwd: env.cwd, sessionId }),
      prompt: `scenario:${pace} ${TASK}`,
    })),
  );

  // How every run ends, the losers' included: a cancelled prompt$() goes quiet, events$ does not.
  const outcomes = Promise.all(contestants.map(({ session }) => firstValueFrom(session.events$.pipe(ofType('agent_end')))));

  const winner = await firstValueFrom(merge(...contestants.map(({ session, prompt }) => session.prompt$(prompt))).pipe(ofType('agent_end')));
  log(`winner: ${winner.sessionId} (${JSON.stringify(winner.finalText)})`);
  for (const end of await outcomes) log(`  ${end.sessionId}: ${end.reason}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
