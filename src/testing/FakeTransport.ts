import { Subject, type Observable, type SchedulerLike } from 'rxjs';
import { TransportClosedError } from '../errors.js';
import type { CloseResult, ExitInfo, PiTransport, TransportLine } from '../transport/PiTransport.js';
import { BufferedLines } from './BufferedLines.js';

/** A command the session wrote, as a parsed object. */
export type SentCommand = Readonly<Record<string, unknown>> & { readonly type: string; readonly id?: string };

export interface FakeTransportOptions {
  /**
   * Called for every command written (after it is recorded). Use it to answer: e.g.
   * `transport.reply(command, data)` or `transport.emitFrame(...)`. The default,
   * {@link FakeTransport.defaultResponder}, answers `get_state` with an idle state and every
   * other command with `success: true`.
   */
  readonly respond?: (command: SentCommand, transport: FakeTransport) => void;
  /** Make `start()` reject with this error. */
  readonly startError?: Error;
  /** What `close()` does: exit cleanly (default) or `'hang'` (the test calls `exit()` itself). */
  readonly onClose?: 'exit' | 'hang';
  readonly pid?: number;
  /**
   * Runs the fake on this scheduler (e.g. a `TestScheduler`): writes reach the responder as a
   * scheduled action instead of a microtask, and `start()`/`close()` return at once (no
   * promise), so a whole session over it runs in virtual time and can be marble-tested.
   */
  readonly scheduler?: SchedulerLike;
}

/**
 * An in-memory {@link PiTransport} for unit tests: no process, no network. Push stdout lines
 * with {@link emitLine}/{@link emitFrame}, end the "process" with {@link exit}, and inspect what
 * the session wrote in {@link sent}.
 *
 * Writes are delivered to the responder asynchronously (a microtask later), as a real pipe
 * would, so a synchronous answer can't re-enter the session mid-emit.
 */
export class FakeTransport implements PiTransport {
  /** Every command written, in order. */
  readonly sent: SentCommand[] = [];
  readonly lines$: Observable<TransportLine>;
  readonly exited: Promise<ExitInfo>;
  /** Emits each command as it is written. */
  readonly sent$: Observable<SentCommand>;

  readonly #options: FakeTransportOptions;
  readonly #stdout = new BufferedLines<TransportLine>();
  readonly #sent = new Subject<SentCommand>();
  #started = false;
  #exit: ExitInfo | undefined;
  #resolveExit!: (info: ExitInfo) => void;
  #stderr = '';

  constructor(options: FakeTransportOptions = {}) {
    this.#options = options;
    this.exited = new Promise((resolve) => {
      this.#resolveExit = resolve;
    });
    this.sent$ = this.#sent.asObservable();
    this.lines$ = this.#stdout.lines$;
  }

  /** Answers `get_state` with an idle state and anything else with success. */
  static defaultResponder(this: void, command: SentCommand, transport: FakeTransport): void {
    if (command.type === 'get_state') {
      transport.reply(command, {
        model: { id: 'fake-1', provider: 'fake' },
        thinkingLevel: 'off',
        isStreaming: false,
        isCompacting: false,
        sessionId: 'fake-pi-session',
        messageCount: 0,
        pendingMessageCount: 0,
      });
    } else if (command.type !== 'extension_ui_response') {
      transport.reply(command);
    }
  }

  get pid(): number | undefined {
    return this.#started ? (this.#options.pid ?? 424242) : undefined;
  }
  /** How the "process" ended, once {@link exit} was called. */
  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  get exitCode(): number | null {
    return this.#exit?.exitCode ?? null;
  }
  get stderrTail(): string {
    return this.#stderr;
  }
  get started(): boolean {
    return this.#started;
  }

  start(): Promise<void> | void {
    if (this.#options.startError) return Promise.reject(this.#options.startError);
    this.#started = true;
    return this.#options.scheduler ? undefined : Promise.resolve();
  }

  send(command: object): Promise<void> {
    if (!this.#started) return Promise.reject(new TransportClosedError('send() before start()'));
    if (this.#exit) return Promise.reject(new TransportClosedError('send() after the pi process exited', this.#exit));
    // Round-trip through JSON like the real wire, so tests see exactly what pi would.
    const parsed = JSON.parse(JSON.stringify(command)) as SentCommand;
    this.sent.push(parsed);
    const deliver = (): void => {
      this.#sent.next(parsed);
      (this.#options.respond ?? FakeTransport.defaultResponder)(parsed, this);
    };
    const { scheduler } = this.#options;
    if (scheduler) {
      scheduler.schedule(deliver);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      queueMicrotask(() => {
        deliver();
        resolve();
      });
    });
  }

  /** Writes one stdout line. */
  emitLine(line: TransportLine): void {
    this.#stdout.write(line);
  }

  /** Writes one frame as a JSON line. */
  emitFrame(frame: object): void {
    this.emitLine(JSON.stringify(frame));
  }

  /** Answers `command` with `success: true` (and `data`). */
  reply(command: SentCommand, data?: unknown): void {
    this.emitFrame({ id: command.id, type: 'response', command: command.type, success: true, ...(data === undefined ? {} : { data }) });
  }

  /** Answers `command` with `success: false`. */
  fail(command: SentCommand, error: string): void {
    this.emitFrame({ id: command.id, type: 'response', command: command.type, success: false, error });
  }

  /** Appends to the stderr tail. */
  writeStderr(text: string): void {
    this.#stderr += text;
  }

  /** Ends stdout without exiting (a broken pipe). */
  endStdout(): void {
    this.#stdout.end();
  }

  /** The "process" exits: stdout ends, then `exited` resolves. */
  exit(exitCode: number | null = 0, signal: string | null = null): void {
    if (this.#exit) return;
    this.#exit = { exitCode, signal, stderrTail: this.#stderr };
    this.endStdout();
    this.#resolveExit(this.#exit);
  }

  close(): Promise<CloseResult> | CloseResult {
    const result = this.#closeNow();
    if (this.#options.scheduler && result) return result;
    return result ? Promise.resolve(result) : this.exited.then((info) => ({ ...info, escalation: 'eof' as const }));
  }

  /** What close() does; `undefined` while it waits for the test to call exit() (`onClose: 'hang'`). */
  #closeNow(): CloseResult | undefined {
    if (!this.#started) return { exitCode: null, signal: null, stderrTail: this.#stderr, escalation: 'not-started' };
    if (this.#exit) return { ...this.#exit, escalation: 'already-exited' };
    if (this.#options.onClose === 'hang') return undefined;
    this.exit(0, null);
    return { ...(this.#exit as unknown as ExitInfo), escalation: 'eof' };
  }
}
