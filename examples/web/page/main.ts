/**
 * The browser side of the web example: two pi sessions side by side, in plain RxJS and DOM.
 *
 * - `merge` combines both sessions' `events$` into one stream, routed to a panel by `sessionId`.
 * - Each panel's prompts go through `switchMap(text => session.prompt$(text))`: a new prompt
 *   unsubscribes from the previous run's `prompt$`, which aborts that run on the server.
 * - Permission requests from `pending$` become Allow / Deny buttons wired to `respond()`.
 *
 * Bundled by esbuild at server start (see ../app.ts); `pidriver/browser` has no Node imports.
 */
import { catchError, combineLatest, EMPTY, filter, fromEvent, map, merge, mergeMap, startWith, switchMap, tap } from 'rxjs';
import { connectSession, type InteractionRequest, type PiEvent, type RemoteSession } from 'pidriver/browser';

interface Panel {
  readonly id: string;
  readonly session: RemoteSession;
  readonly form: HTMLFormElement;
  readonly input: HTMLTextAreaElement;
  readonly transcript: HTMLElement;
  readonly requests: HTMLElement;
  readonly status: HTMLElement;
  /** The element receiving the current message's deltas, per channel. */
  readonly open: Map<string, HTMLElement>;
  run: HTMLElement | undefined;
}

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
};

function createPanel(id: string, session: RemoteSession): Panel {
  const root = el('section', 'panel');
  root.dataset['sessionId'] = id;
  const header = el('header');
  header.append(el('h2', undefined, `session ${id}`));
  const status = el('span', 'status', 'connecting…');
  header.append(status);
  const transcript = el('div', 'transcript');
  const requests = el('div', 'requests');
  const form = el('form', 'prompt');
  const input = el('textarea');
  input.name = 'prompt';
  input.rows = 2;
  input.placeholder = 'Prompt (Ctrl+Enter sends). A new prompt aborts the running one.';
  const send = el('button', undefined, 'Send');
  send.type = 'submit';
  form.append(input, send);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  root.append(header, transcript, requests, form);
  document.getElementById('sessions')?.append(root);
  return { id, session, form, input, transcript, requests, status, open: new Map(), run: undefined };
}

function append(panel: Panel, node: HTMLElement): void {
  (panel.run ?? panel.transcript).append(node);
  panel.transcript.scrollTop = panel.transcript.scrollHeight;
}

function render(panel: Panel, event: PiEvent): void {
  switch (event.type) {
    case 'agent_start':
      panel.open.clear();
      panel.run = el('div', 'run');
      panel.transcript.append(panel.run);
      return;
    case 'user_message':
      append(panel, el('div', 'user', event.text));
      return;
    case 'message_delta': {
      let target = panel.open.get(event.channel);
      if (!target) {
        target = el('div', event.channel); // .assistant or .thinking
        panel.open.set(event.channel, target);
        append(panel, target);
      }
      target.textContent += event.text;
      panel.transcript.scrollTop = panel.transcript.scrollHeight;
      return;
    }
    case 'message_complete':
      panel.open.delete(event.channel);
      return;
    case 'tool_start': {
      const tool = el('div', 'tool running');
      tool.dataset['toolCallId'] = event.toolCallId;
      tool.append(el('span', 'name', `⚙ ${event.name}`), el('code', undefined, JSON.stringify(event.arguments)), el('span', 'state', 'running…'));
      append(panel, tool);
      return;
    }
    case 'tool_end': {
      // The latest tool with that id (ids are per run: the fake LLM reuses them across runs).
      const tool = [...panel.transcript.querySelectorAll<HTMLElement>(`.tool[data-tool-call-id="${CSS.escape(event.toolCallId)}"]`)].at(-1);
      if (!tool) return;
      tool.classList.replace('running', event.isError ? 'failed' : 'done');
      const state = tool.querySelector('.state');
      if (state) state.textContent = event.isError ? '✖ blocked or failed' : '✔ done';
      tool.append(el('pre', 'result', event.result.slice(0, 2_000)));
      return;
    }
    case 'agent_end':
      append(
        panel,
        el('div', `end ${event.reason}`, `■ ${event.reason} · ${event.usage.totalTokens} tokens${event.errorMessage ? ` · ${event.errorMessage}` : ''}`),
      );
      panel.run = undefined;
      return;
    case 'error':
      append(panel, el('div', 'error', `${event.code}: ${event.message}`));
      return;
    default:
      return;
  }
}

function renderRequests(panel: Panel, pending: readonly InteractionRequest[]): void {
  panel.requests.replaceChildren(
    ...pending.map((request) => {
      const box = el('div', `request ${request.kind}`);
      box.dataset['requestId'] = request.requestId;
      box.append(el('strong', undefined, request.prompt.title), el('span', undefined, request.prompt.message));
      const buttons =
        request.kind === 'permission'
          ? [button('Allow', 'allow', true), button('Deny', 'deny', false)]
          : request.options.map((option, index) => button(option, 'option', index));
      if (request.kind === 'question' || request.kind === 'input' || request.kind === 'editor') {
        const answer = el('input');
        answer.name = 'answer';
        box.append(answer);
        buttons.push(button('Answer', 'answer', ''));
      }
      box.append(...buttons);
      return box;
    }),
  );
}

function button(label: string, decision: string, value: boolean | number | string): HTMLButtonElement {
  const element = el('button', decision, label);
  element.type = 'button';
  element.dataset['decision'] = decision;
  element.dataset['value'] = JSON.stringify(value);
  return element;
}

// ---------------------------------------------------------------------------------------------

const { sessions } = (await (await fetch('/api/sessions')).json()) as { sessions: { sessionId: string }[] };
// Events are read with fetch by default; `?eventsource=left` reads that session's with the
// browser's EventSource instead (the browser test covers both).
const withEventSource = new Set(new URLSearchParams(location.search).getAll('eventsource'));
const panels = sessions.map(({ sessionId }) =>
  createPanel(
    sessionId,
    connectSession(`/api/sessions/${encodeURIComponent(sessionId)}`, withEventSource.has(sessionId) ? { EventSource: window.EventSource } : {}),
  ),
);
const byId = new Map(panels.map((panel) => [panel.id, panel]));

// One stream of both sessions' events: each event carries its sessionId.
merge(...panels.map((panel) => panel.session.events$)).subscribe({
  next: (event) => {
    const panel = byId.get(event.sessionId);
    if (panel) render(panel, event);
  },
  error: (error: unknown) => document.body.append(el('p', 'error', `a session died: ${String(error)}`)),
});

merge(...panels.map((panel) => panel.session.pending$.pipe(map((pending) => ({ panel, pending }))))).subscribe(({ panel, pending }) =>
  renderRequests(panel, pending),
);

merge(
  ...panels.map((panel) =>
    combineLatest([panel.session.state$.pipe(startWith(undefined)), panel.session.connection$]).pipe(
      map(([state, connection]) => ({ panel, state, connection })),
    ),
  ),
).subscribe(({ panel, state, connection }) => {
  const link = connection.status === 'open' ? '' : ` · ${connection.status}`;
  panel.status.textContent = state ? `${state.status} · ${state.runs} runs · ${state.usage.totalTokens} tokens${link}` : `${connection.status}…`;
  panel.status.dataset['status'] = state?.status ?? connection.status;
});

for (const panel of panels) {
  // A new prompt switches to its own run: switchMap unsubscribes the previous prompt$, which aborts it.
  fromEvent<SubmitEvent>(panel.form, 'submit')
    .pipe(
      tap((event) => event.preventDefault()),
      map(() => panel.input.value.trim()),
      filter((text) => text.length > 0),
      tap(() => (panel.input.value = '')),
      switchMap((text) =>
        panel.session.prompt$(text).pipe(
          catchError((error: unknown) => {
            append(panel, el('div', 'error', `prompt failed: ${String(error)}`));
            return EMPTY;
          }),
        ),
      ),
    )
    .subscribe();

  // Allow / Deny (and choices, answers) → respond(requestId, value).
  fromEvent<MouseEvent>(panel.requests, 'click')
    .pipe(
      map((event) => (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-decision]')),
      filter((target): target is HTMLButtonElement => target !== null),
      mergeMap((target) => {
        const box = target.closest<HTMLElement>('.request');
        const requestId = box?.dataset['requestId'];
        if (!box || !requestId) return EMPTY;
        box.querySelectorAll('button').forEach((element) => (element.disabled = true));
        const typed = box.querySelector<HTMLInputElement>('input[name=answer]')?.value;
        const value = target.dataset['decision'] === 'answer' ? (typed ?? '') : (JSON.parse(target.dataset['value'] ?? 'null') as boolean | number);
        return panel.session.respond(requestId, value).catch((error: unknown) => {
          append(panel, el('div', 'error', `respond failed: ${String(error)}`));
        });
      }),
    )
    .subscribe();
}

document.body.dataset['ready'] = 'true';
