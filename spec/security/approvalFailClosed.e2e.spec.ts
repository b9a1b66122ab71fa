/**
 * pidriver's approval extension fails closed, proved through the real pi 0.73.1 CLI: the fake LLM
 * asks pi's `bash` tool to create a file, and whenever the host did not clearly say `Approve`,
 * the file must not exist afterwards (checked once pi and everything it started are gone, so a
 * tool that ran late would have been caught).
 *
 * - the policy fails: it throws, answers something invalid, or completes;
 * - the host never answers and the run is aborted; the session closes while the dialog is open;
 * - the host disconnects (stdin EOF, no answer) while the dialog is open;
 * - the wire answer is anything but exactly `Approve` (case, whitespace, a confirm-shaped or
 *   empty answer): pidriver's own validation is bypassed here by rewriting the answer below the
 *   session, so this is the extension's own guard.
 */
import { existsSync } from 'node:fs';
import { EMPTY, filter, firstValueFrom, mergeMap, of, takeWhile, throwError, timeout, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoApprove } from '../../src/policies/autoApprove.js';
import type { Policy, PolicyAnswer, PolicyRequest } from '../../src/policies/types.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import type { CloseOptions, CloseResult, ExitInfo, PiTransport, TransportLine } from '../../src/transport/PiTransport.js';
import { SubprocessTransport } from '../../src/transport/SubprocessTransport.js';
import { TransportClosedError } from '../../src/errors.js';
import { bashFilePrompt, eventsUntilAgentEnd, pidsMatching, waitForExit } from '../helpers/realPi.js';
import { runEvents } from './support.js';

let env: FakePiEnv;

beforeAll(async () => {
  env = await startFakePiEnv();
});

afterAll(async () => {
  await env.close();
});

const createFile = () => bashFilePrompt(env.cwd, 'approval');

/** Resolves once exactly one interaction request is open (pending$ replays its current value). */
async function dialogOpen(session: PiSession): Promise<void> {
  await firstValueFrom(
    session.pending$.pipe(
      filter((pending) => pending.length === 1),
      timeout(30_000),
    ),
  );
}

const toolEndOf = (events: readonly PiEvent[]) => events.find((event): event is Extract<PiEvent, { type: 'tool_end' }> => event.type === 'tool_end');

/**
 * A transport that rewrites (or withholds) the session's answers to extension dialogs, so the
 * wire carries what a buggy or hostile host might send.
 */
class RewritingTransport implements PiTransport {
  readonly #inner: SubprocessTransport;
  /** Per answer, in order: the replacement command, or `'disconnect'` (send nothing, end stdin). */
  readonly rewrites: ((answer: { id: string }) => object | 'disconnect')[] = [];

  constructor(inner: SubprocessTransport) {
    this.#inner = inner;
  }

  get lines$(): Observable<TransportLine> {
    return this.#inner.lines$;
  }
  get exited(): Promise<ExitInfo> {
    return this.#inner.exited;
  }
  get pid(): number | undefined {
    return this.#inner.pid;
  }
  get exitCode(): number | null {
    return this.#inner.exitCode;
  }
  get stderrTail(): string {
    return this.#inner.stderrTail;
  }
  start(): Promise<void> {
    return this.#inner.start();
  }
  close(options?: CloseOptions): Promise<CloseResult> {
    return this.#inner.close(options);
  }
  send(command: object): Promise<void> {
    const typed = command as { type?: string; id: string };
    const rewrite = typed.type === 'extension_ui_response' ? this.rewrites.shift() : undefined;
    if (!rewrite) return this.#inner.send(command);
    const replacement = rewrite(typed);
    if (replacement === 'disconnect') {
      void this.#inner.close(); // EOF with the dialog still open: the host went away
      return Promise.resolve();
    }
    return this.#inner.send(replacement);
  }
}

describe.concurrent('the approval extension fails closed (real pi CLI, bash creating a file)', () => {
  it('when the policy throws, answers something invalid, or completes: denied, policy_error, no file', async () => {
    const failures = ['throws', 'invalid answer', 'completes'] as const;
    let turn = 0;
    // One operator that fails a different way on each request; the session restarts it after
    // each failure (a fresh subscription; `turn` lives outside, so it moves on).
    const failing: Policy = (request$: Observable<PolicyRequest>) =>
      request$.pipe(
        takeWhile(({ request }) => !(request.kind === 'permission' && failures[turn] === 'completes')),
        mergeMap(({ request }): Observable<PolicyAnswer> => {
          const failure = failures[turn++];
          if (failure === 'throws') return throwError(() => new Error('policy bug'));
          if (failure === 'invalid answer') return of({ requestId: request.requestId, decision: 'perhaps' as never });
          return EMPTY;
        }),
      );
    const session = await new PiClient({ config: env.config, policy: failing }).start({ cwd: env.cwd });
    try {
      for (const failure of failures) {
        const { prompt, file } = createFile();
        const events = await runEvents(session, prompt);
        expect(
          events.some((event) => event.type === 'interaction_request'),
          failure,
        ).toBe(true);
        expect(
          events.some((event) => event.type === 'error' && event.code === 'policy_error'),
          failure,
        ).toBe(true);
        expect(toolEndOf(events), failure).toMatchObject({ isError: true, result: expect.stringContaining('policy') });
        expect(existsSync(file), failure).toBe(false);
      }
    } finally {
      await session.close();
    }
  });

  it('when the host never answers and the run is aborted, and when the session closes while the dialog is open', async () => {
    const session = await new PiClient({ config: env.config }).start({ cwd: env.cwd }); // askHost(): waits for respond()
    const pid = session.pid!;
    try {
      const aborted = createFile();
      const collected = eventsUntilAgentEnd(session.events$);
      const run = session.prompt(aborted.prompt);
      await dialogOpen(session);
      await session.abort();
      expect(await run).toMatchObject({ reason: 'cancelled' });
      expect(toolEndOf(await collected)).toMatchObject({ isError: true });
      expect(session.pending).toEqual([]);
      expect(existsSync(aborted.file)).toBe(false);

      const closed = createFile();
      const second = session.prompt(closed.prompt);
      second.catch(() => undefined);
      await dialogOpen(session);
      await session.close();
      await expect(second).rejects.toBeInstanceOf(TransportClosedError);
      expect(await waitForExit(pid)).toBe(true);
      expect(existsSync(closed.file)).toBe(false);
    } finally {
      await session.close();
    }
  });

  it('when the wire answer is anything but exactly "Approve", or the host disconnects mid-dialog', async () => {
    let transport: RewritingTransport | undefined;
    const client = new PiClient({
      config: env.config,
      policy: autoApprove(), // answers Approve; the transport garbles it on the way out
      transportFactory: (config, options) => (transport = new RewritingTransport(new SubprocessTransport(config, options))),
    });
    const session = await client.start({ cwd: env.cwd });
    const pid = session.pid!;
    const garbled: [string, (answer: { id: string }) => object][] = [
      ['lower case', ({ id }) => ({ type: 'extension_ui_response', id, value: 'approve' })],
      ['trailing space', ({ id }) => ({ type: 'extension_ui_response', id, value: 'Approve ' })],
      ['another word', ({ id }) => ({ type: 'extension_ui_response', id, value: 'Yes' })],
      ['confirm-shaped', ({ id }) => ({ type: 'extension_ui_response', id, confirmed: true })],
      ['no value', ({ id }) => ({ type: 'extension_ui_response', id })],
      ['a list', ({ id }) => ({ type: 'extension_ui_response', id, value: ['Approve'] })],
    ];
    try {
      // Control: the untouched answer does run the tool.
      const control = createFile();
      expect(toolEndOf(await runEvents(session, control.prompt))).toMatchObject({ isError: false });
      expect(existsSync(control.file)).toBe(true);

      for (const [what, rewrite] of garbled) {
        transport!.rewrites.push(rewrite);
        const { prompt, file } = createFile();
        const events = await runEvents(session, prompt);
        expect(toolEndOf(events), what).toMatchObject({ isError: true });
        expect(existsSync(file), what).toBe(false);
      }

      transport!.rewrites.push(() => 'disconnect');
      const disconnected = createFile();
      const last = session.prompt(disconnected.prompt);
      await expect(last).rejects.toBeInstanceOf(TransportClosedError);
      expect(await waitForExit(pid)).toBe(true);
      expect(pidsMatching(disconnected.file)).toEqual([]);
      expect(existsSync(disconnected.file)).toBe(false);
    } finally {
      await session.close();
    }
  });
});
