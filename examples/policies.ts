/**
 * Interaction policies: who decides whether the agent may run a tool.
 *
 * `npx tsx examples/policies.ts` runs the real pi offline three times against the fake LLM,
 * which asks to run `bash` to create a file, under three policies:
 *   1. `safeCiPolicy` (below): reads are fine, writes are denied, `rm` is never allowed;
 *   2. a host callback that "asks a human" (here: decides after 100 ms);
 *   3. the default: requests wait in `session.pending$` until the app calls `respond()`.
 *
 * `examples/policies.spec.ts` marble-tests `safeCiPolicy` with TestScheduler, no pi needed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { filter, map, timer } from 'rxjs';
import { allowTools, askHost, chain, denyAll, denyTools, ofType, PiClient, type Policy } from 'pidriver';
import { startFakePiEnv } from 'pidriver/testing';

/** A CI bot's policy: never `rm`, allow read-only tools, deny everything else. */
export const safeCiPolicy: Policy = chain(
  denyTools((toolName, request) => toolName === 'bash' && /\brm\b/.test(typeof request.args?.['command'] === 'string' ? request.args['command'] : '')),
  allowTools(['read', 'grep', 'find', 'ls']),
  denyAll('CI policy: this tool is not allowed unattended'),
);

export async function main(log: (line: string) => void = console.log): Promise<void> {
  await using env = await startFakePiEnv();
  const client = new PiClient({ config: env.config, approve: 'all' });

  const tryPolicy = async (label: string, policy: Policy | undefined, onSession?: (session: Awaited<ReturnType<PiClient['start']>>) => void) => {
    const file = `policy-${label.replace(/\W+/g, '-')}.txt`;
    await using session = await client.start({ cwd: env.cwd, ...(policy ? { policy } : {}) });
    onSession?.(session);
    const ends = session.events$.pipe(ofType('tool_end')).subscribe((end) => log(`  tool_end: isError=${end.isError} ${JSON.stringify(end.result.trim())}`));
    await session.prompt(`scenario:tool-bash [[cmd:echo hi > ${file}]]`);
    ends.unsubscribe();
    log(`  ${label}: file ${existsSync(join(env.cwd, file)) ? 'created' : 'NOT created'}\n`);
  };

  log('1. safeCiPolicy');
  await tryPolicy('safe-ci', safeCiPolicy);

  log('2. askHost with a (simulated) human who takes 100 ms and says yes');
  await tryPolicy(
    'ask-host',
    askHost((request, { signal }) => {
      log(`  asked: ${request.prompt.title} / ${request.prompt.message}`);
      // `signal` aborts if the request is withdrawn (run aborted, session closed): stop asking then.
      return timer(100).pipe(map(() => !signal.aborted));
    }),
  );

  log('3. default: the app answers pending requests with respond()');
  await tryPolicy('respond', undefined, (session) => {
    session.pending$.pipe(filter((pending) => pending.length > 0)).subscribe((pending) => {
      for (const request of pending) void session.respond(request.requestId, 'Approve');
    });
  });
}

// Run when executed (`tsx examples/policies.ts`), not when the spec imports `safeCiPolicy`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
