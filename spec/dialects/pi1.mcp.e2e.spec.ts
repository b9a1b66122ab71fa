/**
 * Opt-in: `PiConfig.mcpServers` on the real pi 1.x (`@earendil-works/pi-coding-agent@1.5.2` under
 * Bun, installed like spec/dialects/pi1.e2e.spec.ts), with a tiny stdio MCP server
 * (spec/fixtures/mcp-stdio-server.mjs) and the fake LLM calling its tool by the name pi exposes
 * it under, `mcp__<server>__<tool>`.
 *
 *     PIDRIVER_E2E_PI1=1 npx vitest run spec/dialects/pi1.mcp.e2e.spec.ts
 *
 * Skipped (with the reason) when not enabled or when the install fails.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, timeout, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { PiEvent, PiEventOf } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import type { FakeLlmRequest, FakeReply } from '../../src/testing/fakeLlm/types.js';
import { e2eEnabled, installPi } from './installPi.js';

const enabled = e2eEnabled('pi1');
const installed = enabled
  ? await installPi('pi1')
  : { skip: 'set PIDRIVER_E2E_PI1=1 to run it (installs bun + @earendil-works/pi-coding-agent@1.5.2 from npm)' };

const MCP_SERVER = fileURLToPath(new URL('../fixtures/mcp-stdio-server.mjs', import.meta.url));
/** The name pi gives the fixture's `lookup_stock` tool of the server named `stock`. */
const TOOL = 'mcp__stock__lookup_stock';
const QUESTION = 'How many units of A-1 are in stock?';
/** A user's own `mcp.json` (pi's format; `direct`, since pi's default exposure needs its codemode tool). */
const USER_MCP_JSON = { mcpServers: { stock: { command: process.execPath, args: [MCP_SERVER], exposure: 'direct' } } };

/** The model: calls the MCP tool, then repeats what it returned. */
function script(request: FakeLlmRequest): FakeReply | undefined {
  if (request.lastUserText !== QUESTION) return undefined;
  if (request.step === 0) return { toolCalls: [{ name: TOOL, arguments: { sku: 'A-1' } }] };
  return { text: `The stock tool says: ${request.toolResults.join(' | ')}` };
}

describe('pi 1.x MCP e2e', () => {
  if ('skip' in installed) {
    it.skip(`pi 1.x MCP e2e skipped: ${installed.skip}`, () => undefined);
    return;
  }
  const pi1 = installed;
  const envs: FakePiEnv[] = [];
  const sessions: PiSession[] = [];
  afterAll(async () => {
    for (const session of sessions) await session.close();
    for (const env of envs) await env.close();
  });
  const startEnv = async () => {
    const env = await startFakePiEnv({ llm: { script } });
    envs.push(env);
    return env;
  };
  /** A fake env whose agent dir holds the user's own mcp.json, naming the fixture server. */
  const userMcpEnv = async () => {
    const env = await startEnv();
    await writeFile(join(env.agentDir, 'mcp.json'), JSON.stringify(USER_MCP_JSON));
    return env;
  };

  it('connects a stdio MCP server from PiConfig.mcpServers under --no-extensions, and its tool result reaches the model', async () => {
    const env = await startEnv();
    const client = new PiClient({
      config: env.config.with({
        binary: pi1.binary,
        runtime: pi1.runtime,
        // `$HOME` must reach the server as written: pidriver escapes pi's `$NAME` expansion.
        mcpServers: { stock: { command: process.execPath, args: [MCP_SERVER], env: { STOCK_UNITS: '$HOME' } } },
      }),
    });
    const session = await client.start({ cwd: env.cwd });
    sessions.push(session);
    expect(session.capabilities).toMatchObject({ dialect: 'pi-1', version: pi1.version });

    const events = await lastValueFrom(session.prompt$(QUESTION).pipe(toArray(), timeout(60_000)));
    const of = <T extends PiEvent['type']>(type: T) => events.filter((event): event is PiEventOf<T> => event.type === type);

    const [first, second] = env.llm.requests.filter((request) => request.lastUserText === QUESTION);
    expect(first?.tools).toContain(TOOL); // declared to the model directly (pi's `direct` exposure)
    expect(of('tool_end')).toEqual([expect.objectContaining({ name: TOOL, isError: false, result: '$HOME units of A-1 in stock' })]);
    expect(second?.toolResults).toEqual(['$HOME units of A-1 in stock']);
    expect(of('agent_end')).toEqual([expect.objectContaining({ reason: 'completed', finalText: 'The stock tool says: $HOME units of A-1 in stock' })]);
  });

  it('without mcpServers, pidriver’s default (--no-extensions) keeps pi 1.x’s built-in MCP off, even with servers in the agent dir’s own mcp.json', async () => {
    const own = await userMcpEnv();
    const session = await new PiClient({ config: own.config.with({ binary: pi1.binary, runtime: pi1.runtime }) }).start({ cwd: own.cwd });
    sessions.push(session);
    await session.prompt('scenario:text');
    expect(own.llm.requests.at(-1)?.tools.some((name) => name.startsWith('mcp__'))).toBe(false);
  });

  it('noExtensions: false turns pi 1.x’s built-in MCP on for the agent dir’s own mcp.json (left as it is)', async () => {
    const own = await userMcpEnv();
    const config = own.config.with({ binary: pi1.binary, runtime: pi1.runtime, noExtensions: false });
    const session = await new PiClient({ config }).start({ cwd: own.cwd });
    sessions.push(session);
    const result = await session.prompt(QUESTION);
    expect(own.llm.requests.find((request) => request.lastUserText === QUESTION)?.tools).toContain(TOOL);
    expect(result.finalText).toBe('The stock tool says: 12 units of A-1 in stock');
    expect(JSON.parse(await readFile(join(own.agentDir, 'mcp.json'), 'utf8'))).toEqual(USER_MCP_JSON);
  });
});
