/**
 * Helpers for the bridge and browser specs: a PiSession over a scripted FakeTransport, a real
 * `node:http` server on 127.0.0.1:0 serving it, and raw HTTP requests.
 */
import { request as httpRequest, createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asyncScheduler, Observable, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiSession } from '../../src/session/PiSession.js';
import type { ReplayLimits } from '../../src/rx/ReplayHub.js';
import { FakeTransport, type SentCommand } from '../../src/testing/FakeTransport.js';
import { sessionHandler, type SessionHandler, type SessionHandlerOptions } from '../../src/bridge/index.js';
import type { BridgeSession, BridgeSessionSource } from '../../src/bridge/types.js';

const config = PiConfig.parse({ requestTimeoutMs: 5_000, startTimeoutMs: 5_000 });

const assistant = (text: string, stopReason = 'stop') => ({
  role: 'assistant',
  content: [{ type: 'text', text }],
  stopReason,
  usage: { input: 10, output: 2, cacheRead: 0, cacheWrite: 0, totalTokens: 12, cost: { total: 0.001 } },
});

/**
 * A scripted pi: a prompt streams `echo: <text>` in two deltas and ends, unless its text has
 * `ask` (a bash permission request first: the run ends once it is answered) or `hold` (it runs
 * until aborted). `emitDelta()` streams more text into a held run.
 */
export class ScriptedPi {
  readonly transport: FakeTransport;
  #held: string | undefined;
  #requests = 0;

  constructor() {
    this.transport = new FakeTransport({ respond: (command, transport) => this.#respond(command, transport) });
  }

  /** Streams a delta into the current (held) run. */
  emitDelta(text: string): void {
    this.transport.emitFrame({ type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: text } });
  }

  #end(text: string, stopReason = 'stop'): void {
    this.transport.emitFrame({ type: 'message_end', message: assistant(text, stopReason) });
    this.transport.emitFrame({ type: 'agent_end', messages: [] });
  }

  #respond(command: SentCommand, transport: FakeTransport): void {
    switch (command.type) {
      case 'prompt': {
        const message = String(command['message']);
        transport.reply(command);
        transport.emitFrame({ type: 'agent_start' });
        transport.emitFrame({ type: 'message_start', message: { role: 'user', content: [{ type: 'text', text: message }] } });
        const text = `echo: ${message}`;
        this.emitDelta(text.slice(0, 6));
        this.emitDelta(text.slice(6));
        if (message.includes('hold')) {
          this.#held = text;
        } else if (message.includes('ask')) {
          transport.emitFrame({
            type: 'extension_ui_request',
            id: `req-${++this.#requests}`,
            method: 'select',
            title: 'Allow tool: bash',
            message: 'Command: touch /tmp/x',
            options: ['Approve', 'Approve always', 'Deny'],
          });
          this.#held = text;
        } else {
          this.#end(text);
        }
        return;
      }
      case 'extension_ui_response':
        if (this.#held !== undefined) {
          const text = this.#held;
          this.#held = undefined;
          this.#end(`${text} (${command['value'] === 'Approve' ? 'allowed' : 'denied'})`);
        }
        return;
      case 'abort':
        transport.reply(command);
        if (this.#held !== undefined) {
          const text = this.#held;
          this.#held = undefined;
          this.#end(text, 'aborted');
        }
        return;
      default:
        FakeTransport.defaultResponder(command, transport);
    }
  }
}

/** A started PiSession over a {@link ScriptedPi}. */
export async function scriptedSession(sessionId = 's1', replay?: Partial<ReplayLimits>): Promise<{ session: PiSession; pi: ScriptedPi }> {
  const pi = new ScriptedPi();
  const session = new PiSession({ sessionId, transport: pi.transport, config, cwd: '/work', ...(replay ? { replay } : {}) });
  await session.start();
  return { session, pi };
}

export interface Bridge {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly handler: SessionHandler;
  close(): Promise<void>;
}

/**
 * Serves `target` on 127.0.0.1:0. `middleware` runs first, as a framework's would (it may parse
 * the body into `req.body`, or wait): the handler gets the request once it settles.
 */
export async function startBridge(
  target: BridgeSession | BridgeSessionSource,
  options: SessionHandlerOptions = {},
  middleware?: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<Bridge> {
  const handler = sessionHandler(target, options);
  const server = createServer((req, res) => {
    if (middleware) void middleware(req, res).then(() => handler(req, res));
    else handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    handler,
    close: async () => {
      handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly json: unknown;
}

/** One HTTP request with node:http (full control of headers such as Host and Origin). */
export function rawRequest(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** POSTs JSON. */
export function postJson(port: number, path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(port, path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/**
 * Opens an SSE stream with node:http and collects its text; `until` decides when enough has
 * arrived (bounded by `ms`). Resolves with the text so far and the live response.
 */
export function openSse(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ res: IncomingMessage; text: () => string; waitFor: (predicate: (text: string) => boolean, ms?: number) => Promise<string>; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      let text = '';
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        for (const waiter of [...waiters]) waiter();
      });
      res.on('end', () => {
        for (const waiter of [...waiters]) waiter();
      });
      const waitFor = (predicate: (text: string) => boolean, ms = 10_000) =>
        new Promise<string>((resolveWait, rejectWait) => {
          const check = () => {
            if (predicate(text)) {
              waiters.delete(check);
              clearTimeout(timer);
              resolveWait(text);
            } else if (res.complete) {
              waiters.delete(check);
              clearTimeout(timer);
              rejectWait(new Error(`stream ended before the condition held:\n${text}`));
            }
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            rejectWait(new Error(`timed out waiting for the stream:\n${text.slice(-2000)}`));
          }, ms);
          waiters.add(check);
          check();
        });
      resolve({ res, text: () => text, waitFor, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The parsed `data` of a frame (an event, a notice, a state; `pending` frames carry an array). */
export interface FrameData {
  readonly type?: string;
  readonly seq?: number;
  readonly text?: string;
  readonly sessionId?: string;
  readonly [key: string]: unknown;
}

/** The frames of an SSE text: `{ event, id, data }` with `data` parsed as JSON. */
export function frames(text: string): { event: string; id: string | undefined; data: FrameData }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim().length > 0 && !block.startsWith(':'))
    .map((block) => {
      let event = 'message';
      let id: string | undefined;
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      return { event, id, data: JSON.parse(data) as FrameData };
    });
}

/** A promise with its resolve function outside: a gate a test opens. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/** Resolves once Node has run every callback already queued (I/O included): the handler's awaits have settled. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

/**
 * Wraps a session so a test can see how many subscriptions to its streams are open: the
 * bridge must let go of every one when a client leaves.
 */
export function countingSession(session: BridgeSession): { session: BridgeSession; open: () => number } {
  let open = 0;
  const counted = <T>(source$: Observable<T>): Observable<T> =>
    new Observable<T>((subscriber) => {
      open++;
      const inner = source$.subscribe(subscriber);
      return () => {
        open--;
        inner.unsubscribe();
      };
    });
  const wrapped: BridgeSession = {
    sessionId: session.sessionId,
    events$: counted(session.events$),
    ...(session.recentEvents$ ? { recentEvents$: counted(session.recentEvents$) } : {}),
    state$: counted(session.state$),
    pending$: counted(session.pending$),
    prompt: (text, options) => session.prompt(text, options),
    prompt$: (text, options) => counted(session.prompt$(text, options)),
    abort: () => session.abort(),
    respond: (requestId, value) => session.respond(requestId, value),
  };
  return { session: wrapped, open: () => open };
}

/** `asyncScheduler`, recording the delay of every timer scheduled through it. */
export function recordingScheduler(): { scheduler: SchedulerLike; delays: number[] } {
  const delays: number[] = [];
  const scheduler: SchedulerLike = {
    now: () => asyncScheduler.now(),
    schedule: <T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription => {
      delays.push(delay);
      return asyncScheduler.schedule(work, delay, state);
    },
  };
  return { scheduler, delays };
}
