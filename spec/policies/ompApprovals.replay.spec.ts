/**
 * The same policies that guard pi (through pidriver's approval extension) guard omp's built-in
 * approvals unchanged: replays of real omp 18.2.3 runs with `--approval-mode always-ask`
 * (`spec/fixtures/transcripts/omp-p-approval-*.jsonl`), answered by policy operators
 * instead of by hand.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filter, firstValueFrom, timeout, toArray, takeWhile } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { askHost } from '../../src/policies/askHost.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { denyAll } from '../../src/policies/denyAll.js';
import type { Policy } from '../../src/policies/types.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import { replayTranscript } from '../../src/testing/replayTranscript/replayTranscript.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = join(repo, 'spec', 'fixtures', 'transcripts');
const fixture = (name: string) => join(FIXTURES, `omp-p-approval-${name}.jsonl`);

async function replayWith(name: string, policy: Policy | undefined, approve?: readonly string[]) {
  const replay = replayTranscript(fixture(name));
  const client = new PiClient({ transportFactory: replay.transportFactory, ...(policy ? { policy } : {}) });
  const session = await client.start({ cwd: repo, sessionId: `omp-${name}`, ...(approve ? { approve } : {}) });
  return { replay, session };
}

const uiResponses = (sent: readonly Record<string, unknown>[]) =>
  sent.filter((command) => command['type'] === 'extension_ui_response').map(({ id: _id, ...rest }) => rest);

describe.skipIf(!existsSync(fixture('approve')))('policies on omp’s built-in approvals (recorded omp 18.2.3)', () => {
  it('autoApprove() answers "Approve" and the bash tool runs', async () => {
    const { replay, session } = await replayWith('approve', autoApprove());
    const events = firstValueFrom(
      session.events$.pipe(
        takeWhile((event) => event.type !== 'agent_end', true),
        toArray(),
        timeout(10_000),
      ),
    );
    const result = await session.prompt('scenario:tool-bash please');
    const seen = await events;
    const request = seen.find((event) => event.type === 'interaction_request');
    expect(request).toMatchObject({ kind: 'permission', toolName: 'bash', options: ['Approve', 'Deny'] });
    expect(seen.find((event) => event.type === 'tool_end')).toMatchObject({ name: 'bash', isError: false });
    expect(uiResponses(replay.sent)).toEqual([{ type: 'extension_ui_response', value: 'Approve' }]);
    expect(result.reason).toBe('completed');
    await session.close();
  });

  it('`approve` narrows omp’s ask-everything mode: an unlisted tool is approved without asking the policy', async () => {
    const { replay, session } = await replayWith('approve', denyAll('would deny'), ['edit', 'write']);
    const events = firstValueFrom(
      session.events$.pipe(
        takeWhile((event) => event.type !== 'agent_end', true),
        toArray(),
        timeout(10_000),
      ),
    );
    await session.prompt('scenario:tool-bash please');
    const seen = await events;
    expect(seen.some((event) => event.type === 'interaction_request')).toBe(false);
    expect(seen.find((event) => event.type === 'tool_end')).toMatchObject({ name: 'bash', isError: false });
    expect(uiResponses(replay.sent)).toEqual([{ type: 'extension_ui_response', value: 'Approve' }]);
    await session.close();
  });

  it('denyAll() answers "Deny" and the tool ends as an error the model sees', async () => {
    const { replay, session } = await replayWith('deny', denyAll('not on CI'));
    const toolEnd = firstValueFrom(
      session.events$.pipe(
        filter((event): event is Extract<PiEvent, { type: 'tool_end' }> => event.type === 'tool_end'),
        timeout(10_000),
      ),
    );
    const result = await session.prompt('scenario:tool-bash please');
    expect(await toolEnd).toMatchObject({ name: 'bash', isError: true, result: 'Tool call denied by user: bash' });
    expect(uiResponses(replay.sent)).toEqual([{ type: 'extension_ui_response', value: 'Deny' }]);
    expect(result.finalText).toContain('denied');
    await session.close();
  });

  it('a host callback that cancels sends cancelled: true', async () => {
    const { replay, session } = await replayWith(
      'cancelled',
      askHost(() => [undefined]),
    );
    await session.prompt('scenario:tool-bash please');
    expect(uiResponses(replay.sent)).toEqual([{ type: 'extension_ui_response', cancelled: true }]);
    await session.close();
  });

  it('the default (defer) leaves it in pending$; abort() cancels it on the wire first', async () => {
    const { replay, session } = await replayWith('unanswered-abort', undefined);
    const run = session.prompt('scenario:tool-bash please');
    run.catch(() => undefined);
    const pending = await firstValueFrom(
      session.pending$.pipe(
        filter((requests) => requests.length > 0),
        timeout(10_000),
      ),
    );
    expect(pending[0]).toMatchObject({ kind: 'permission', toolName: 'bash' });
    const abort = session.abort();
    abort.catch(() => undefined);
    await firstValueFrom(
      session.pending$.pipe(
        filter((requests) => requests.length === 0),
        timeout(10_000),
      ),
    );
    const types = replay.sent.map((command) => command['type']);
    expect(types.indexOf('extension_ui_response')).toBeGreaterThan(-1);
    expect(types.indexOf('extension_ui_response')).toBeLessThan(types.indexOf('abort'));
    expect(uiResponses(replay.sent)).toEqual([{ type: 'extension_ui_response', cancelled: true }]);
    await session.close();
  });
});
