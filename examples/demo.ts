/**
 * The README's first command: `npm install && npm run demo`.
 *
 * Starts the bundled fake LLM (an OpenAI-compatible server on 127.0.0.1, no network, no API
 * key), starts the real pi CLI against it, and streams one run with a tool call to the
 * terminal. Replace `startFakePiEnv()` with your own PiConfig to talk to a real model.
 *
 * `npm run demo`, or `npx tsx examples/demo.ts`.
 */
import { pathToFileURL } from 'node:url';
import { PiClient, ofType } from 'pidriver';
import { startFakePiEnv } from 'pidriver/testing';

export async function main(out: (text: string) => void = (text) => void process.stdout.write(text)): Promise<void> {
  await using env = await startFakePiEnv({ files: { 'notes.md': '# Notes\nThe fake LLM reads nothing, pi runs everything.\n' } });
  const client = new PiClient({ config: env.config });
  await using session = await client.start({ cwd: env.cwd });
  out(`pi ${session.pid} is ready (pi session ${session.piSessionId}, model ${session.state.model})\n\n`);

  session.events$.subscribe({
    next: (event) => {
      switch (event.type) {
        case 'message_delta':
          out(event.channel === 'thinking' ? `\x1b[2m${event.text}\x1b[0m` : event.text);
          break;
        case 'tool_start':
          out(`\n\x1b[36m▶ ${event.name} ${JSON.stringify(event.arguments)}\x1b[0m\n`);
          break;
        case 'tool_end':
          out(`\x1b[36m◀ ${event.name}${event.isError ? ' (error)' : ''}:\x1b[0m\n${event.result}\n`);
          break;
        case 'interaction_request':
          out(`\n\x1b[33m? ${event.prompt.title} → approving\x1b[0m\n`);
          void session.respond(event.requestId, true);
          break;
        case 'agent_end':
          out(`\n\n\x1b[32m✔ run ${event.reason}\x1b[0m\n`);
          break;
      }
    },
    error: (error: unknown) => console.error('session died:', error),
  });

  const result = await session.prompt('scenario:tool-bash [[cmd:ls -la && echo "hello from a real pi tool call"]] Please look around.');
  const tools = await session.getStats();
  out(`\nfinal text: ${JSON.stringify(result.finalText)}\n`);
  out(
    `usage: ${result.usage.totalTokens} tokens (${result.usage.inputTokens} in, ${result.usage.outputTokens} out, ${result.usage.cacheReadTokens} cached), $${result.usage.costUsd.toFixed(6)}\n`,
  );
  out(`pi's own stats: ${tools.toolCalls} tool call(s), ${tools.totalMessages} messages\n`);

  // Operators work on the same stream: count the deltas of a second run.
  let deltas = 0;
  const counting = session.events$.pipe(ofType('message_delta')).subscribe(() => deltas++);
  await session.prompt('scenario:text [[text:That is all for the demo.]]');
  counting.unsubscribe();
  out(`\nsecond run streamed ${deltas} deltas\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
