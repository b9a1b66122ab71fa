/**
 * Host tools, structured output and a run limit, in one session.
 *
 *   1. `lookup_stock` is a host tool: the model calls it, `execute` runs here, in this process,
 *      reports progress (an Observable: each value before the last is a `tool_update`), and its
 *      result goes back to the model. Arguments that don't fit its zod schema never reach `execute`.
 *   2. `prompt(text, { output: Stock })` asks for a typed result: the model submits it with the
 *      `submit_result` tool; an invalid one goes back to it as a tool error, and it tries again.
 *   3. `prompt(text, { limits: { maxTurns: 2 } })`: a model that calls the tool forever is stopped,
 *      the run ends with `reason: 'limit'`, and the session goes on.
 *
 * The bundled fake LLM plays the model: `scenario:tool-call`, `result-retry` and `tool-loop` say
 * what it does, `[[tool:…]]`, `[[args:…]]` and `[[bad:…]]` with which arguments.
 *
 * `npx tsx examples/tools.ts` (offline: the bundled fake LLM and the real pi CLI).
 */
import { pathToFileURL } from 'node:url';
import { map, take, timer } from 'rxjs';
import * as z from 'zod';
import { hostTool, PiClient } from 'pidriver';
import { startFakePiEnv } from 'pidriver/testing';

const STOCK: Readonly<Record<string, number>> = { 'A-100': 12, 'B-200': 0 };

/** A tool the agent calls and the host runs. */
const lookupStock = hostTool({
  name: 'lookup_stock',
  description: 'Looks up how many units of a SKU are in stock.',
  parameters: z.object({ sku: z.string().regex(/^[A-Z]-\d{3}$/, 'a SKU looks like A-100') }),
  // An Observable: each value before the last is progress (a `tool_update`), the last is the result;
  // `details` goes to the host (on `tool_end`), the model sees `content`. On abort or close pidriver
  // unsubscribes; a Promise-based `execute` would pass `context.signal` on (to `fetch`, say).
  execute: ({ sku }) =>
    timer(0, 20).pipe(
      take(2),
      map((step) =>
        step === 0 ? `checking the warehouse for ${sku}…` : { content: `${STOCK[sku] ?? 0} units of ${sku}`, details: { sku, warehouse: 'main' } },
      ),
    ),
});

/** The structured result of the second prompt. */
const Stock = z.object({ sku: z.string(), units: z.number().int().nonnegative(), reorder: z.boolean() });

export async function main(log: (line: string) => void = console.log): Promise<void> {
  await using env = await startFakePiEnv();
  const client = new PiClient({ config: env.config, approve: 'none' });
  await using session = await client.start({ cwd: env.cwd, tools: [lookupStock], limits: { maxTurns: 10 } });

  session.events$.subscribe({
    next: (event) => {
      if (event.type === 'tool_start') log(`  ▶ ${event.name} ${JSON.stringify(event.arguments)}`);
      if (event.type === 'tool_update') log(`  … ${event.output}`);
      // (two lines: pi's validation errors go on to list the arguments received)
      if (event.type === 'tool_end') log(`  ◀ ${event.name}${event.isError ? ' (error)' : ''}: ${event.result.split('\n').slice(0, 2).join(' ')}`);
    },
    error: (error: unknown) => console.error('session died:', error),
  });

  // 1. A host tool: the model calls it, `execute` runs here; its result is in the model's answer.
  log('1. host tool');
  const looked = await session.prompt('scenario:tool-call [[tool:lookup_stock]] [[args:{"sku":"A-100"}]] How many A-100 are left?');
  log(`  answer: ${looked.finalText}`);
  await session.prompt('scenario:tool-call [[tool:lookup_stock]] [[args:{"sku":"a100"}]] And a100?'); // never reaches execute

  // 2. Structured output: the first result is invalid (units: "twelve"), the second one fits.
  log('2. structured output');
  const bad = JSON.stringify({ sku: 'A-100', units: 'twelve', reorder: false });
  const good = JSON.stringify({ sku: 'A-100', units: 12, reorder: false });
  const result = await session.prompt(`scenario:result-retry [[bad:${bad}]] [[args:${good}]] Report the stock of A-100.`, { output: Stock });
  if (result.output) log(`  output: ${result.output.units} units of ${result.output.sku}, reorder: ${result.output.reorder}`); // typed from Stock
  log(`  reason: ${result.reason}`);

  // 3. A run limit: this prompt's maxTurns wins over the session's 10.
  log('3. run limit');
  const looping = await session.prompt('scenario:tool-loop [[tool:lookup_stock]] [[args:{"sku":"B-200"}]]', { limits: { maxTurns: 2 } });
  log(`  reason: ${looping.reason}, limit: ${looping.limit}: ${looping.errorMessage}`);
  const after = await session.prompt('scenario:text [[text:Still here.]]');
  log(`  next run: ${after.reason}, "${after.finalText}"`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
