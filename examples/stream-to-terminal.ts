/**
 * Streams one run to the terminal as it happens: the model's thinking (dimmed), its answer, each
 * tool call with its result, and the usage of every LLM call. The whole view is `terminalView()`,
 * a function from event to text, mapped over the run's events.
 *
 * `npx tsx examples/stream-to-terminal.ts` (offline: the bundled fake LLM and the real pi CLI).
 * For a real model, replace `startFakePiEnv(...)` with your own `PiConfig`.
 */
import { pathToFileURL } from 'node:url';
import { filter, map } from 'rxjs';
import { PiClient, type Channel, type PiEvent } from 'pidriver';
import { startFakePiEnv, type FakeReply, type FakeLlmRequest } from 'pidriver/testing';

const dim = (text: string) => `\x1b[2m${text}\x1b[22m`;
const cyan = (text: string) => `\x1b[36m${text}\x1b[39m`;
const green = (text: string) => `\x1b[32m${text}\x1b[39m`;

/**
 * A view of one run: turns each event into terminal text (`''` for the events it leaves out).
 * It remembers one thing, whether the cursor is mid-line, to break the line where the stream
 * switches from thinking to answer or to a tool call.
 */
export function terminalView(): (event: PiEvent) => string {
  let channel: Channel | undefined;
  let midLine = false;
  const line = (text: string) => {
    const out = `${midLine ? '\n' : ''}${text}\n`;
    midLine = false;
    return out;
  };
  return (event) => {
    switch (event.type) {
      case 'message_delta': {
        const breakLine = midLine && channel !== event.channel ? '\n' : '';
        channel = event.channel;
        midLine = !event.text.endsWith('\n');
        return breakLine + (event.channel === 'thinking' ? dim(event.text) : event.text);
      }
      case 'tool_start':
        return line(cyan(`▶ ${event.name} ${JSON.stringify(event.arguments)}`));
      case 'tool_end':
        return line(`${cyan(`◀ ${event.name}${event.isError ? ' failed' : ''}:`)} ${event.result.trim()}`);
      case 'usage':
        return line(dim(`  [${event.totals.inputTokens} in, ${event.totals.outputTokens} out, $${event.totals.costUsd.toFixed(6)}]`));
      case 'agent_end':
        return line(green(`✔ ${event.reason}, ${event.usage.totalTokens} tokens in all`));
      default:
        return '';
    }
  };
}

export async function main(write: (text: string) => void = (text) => void process.stdout.write(text)): Promise<void> {
  await using env = await startFakePiEnv({
    files: { 'notes.md': 'Ship the release on Friday.\n' },
    llm: { script: thinkThenRead },
  });
  const client = new PiClient({ config: env.config, approve: 'none' });
  await using session = await client.start({ cwd: env.cwd });

  // prompt$() is that one run's events; it completes when the run ends.
  await session
    .prompt$('What do my notes say?')
    .pipe(
      map(terminalView()),
      filter((text) => text !== ''),
    )
    .forEach(write);
}

/**
 * Only for the offline demo: a fake model that thinks, reads `notes.md`, then answers with what
 * the tool returned. (Without a `script`, the prompt text picks one of the fake LLM's scenarios.)
 */
function thinkThenRead(request: FakeLlmRequest): FakeReply {
  return request.step === 0
    ? {
        thinking: ['The user wants ', 'their notes; ', 'I should read the file.'],
        text: 'Let me look.',
        toolCalls: [{ name: 'read', arguments: { path: 'notes.md' } }],
      }
    : { thinking: 'Got it.', text: ['Your notes say: ', request.toolResults.join(' ').trim()] };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
