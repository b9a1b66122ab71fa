/**
 * A {@link PiTransport} that plays a recorded transcript back to a session, in answer to the
 * commands the session sends.
 */
import { basename } from 'node:path';
import { asyncScheduler, Observable, Subject, type SchedulerLike } from 'rxjs';
import { DIALECTS, type Dialect } from '../protocol/dialects.js';
import { TransportClosedError } from '../errors.js';
import { OversizeLine } from '../transport/LineSplitter.js';
import type { CloseEscalation, CloseResult, ExitInfo, PiTransport, TransportFactory, TransportLine } from '../transport/PiTransport.js';
import { StderrTail } from '../transport/StderrTail.js';
import type { SentCommand } from './FakeTransport.js';
import { CLOSE_STDIN_NOTE, parseRecord, readTranscript, type TranscriptRecord } from './recordTranscript.js';
import { TIMESTAMP_PLACEHOLDER } from './normalizeTranscript.js';

/** How fast records are released. */
export type ReplayTiming = 'asap' | 'recorded';

/** Context given to {@link ReplayTranscriptOptions.unmatched}, as of the moment the answer is released. */
export interface UnmatchedContext {
  /**
   * The `get_state` data to answer from: the last one released, else the transcript's first,
   * else {@link ReplayTranscriptOptions.state}, else a minimal idle state (with the model of the
   * `spawn` note's `--provider`/`--model` flags, if any).
   */
  readonly state: Readonly<Record<string, unknown>>;
  /**
   * Whether the recorded pi was in a run at this point of the recording: from a successful
   * `prompt` response that starts a run (pi sets `isStreaming` before it writes that response)
   * or an `agent_start`, until the next `agent_end`.
   */
  readonly streaming: boolean;
}

/** Options of {@link replayTranscript}. */
export interface ReplayTranscriptOptions {
  /**
   * `'asap'` (default): each record is released one macrotask after the previous one, as fast as
   * the session consumes them, in recorded order. `'recorded'`: wait out the recorded `t` gaps on
   * {@link scheduler} (a `TestScheduler` makes them virtual).
   */
  readonly timing?: ReplayTiming;
  /** Scheduler for releases. Default: `setImmediate` for `'asap'`, `asyncScheduler` for `'recorded'`. */
  readonly scheduler?: SchedulerLike;
  /** `get_state` data for synthesized answers when the transcript recorded none. */
  readonly state?: Readonly<Record<string, unknown>>;
  /**
   * Recorded time a synthesized answer takes: lines recorded less than this after the line that
   * triggered the command are released first (pi writes `auto_retry_start` in the same tick as
   * `agent_end`). Default 1 ms.
   */
  readonly replyLatencyMs?: number;
  /**
   * Answers a command no recorded `in` line matches; returns the frames to write. It is called
   * when the answer is due (see {@link replyLatencyMs}). The default answers `get_state` from
   * {@link UnmatchedContext.state} with `isStreaming` set to {@link UnmatchedContext.streaming}
   * (so `false` whenever the recorded pi was idle, e.g. after each `agent_end`) and
   * `isCompacting: false`, ignores `extension_ui_response` (pi never answers those), and fails
   * anything else with `success: false` and an error saying the transcript has no answer for it.
   */
  readonly unmatched?: (command: SentCommand, context: UnmatchedContext) => readonly object[];
  /** The pid to report. Default 424242. */
  readonly pid?: number;
  /** Name used in error messages. Default: the path, or `transcript`. */
  readonly name?: string;
}

/**
 * Where the replay waits next:
 * - `in`: for the session to send a command matching recorded `in` line `index`;
 * - `eof`: for `close()` (a `close stdin` note);
 * - `end`: nothing left: the process exited (`exit`), or the transcript ends without an exit.
 */
export type ReplayGate =
  | { readonly kind: 'in'; readonly index: number; readonly line: string; readonly command: SentCommand }
  | { readonly kind: 'eof'; readonly index: number }
  | { readonly kind: 'end'; readonly exit: ExitInfo | undefined };

/** Something the session did that the transcript did not (the log of {@link ReplayTransport.deviations}). */
export type ReplayDeviation =
  /** A sent command had no recorded match; `answered` says whether frames were written for it. */
  | { readonly kind: 'unmatched'; readonly type: string; readonly id: string | undefined; readonly answered: boolean }
  /** A sent command matched a later `in` of the same burst (recorded back to back) than the next one. */
  | { readonly kind: 'reordered'; readonly type: string; readonly index: number }
  /** A recorded `in` line was not played: `unsendable` (a session can't write it), `skip()`, or `close` (closed before it). */
  | { readonly kind: 'skipped'; readonly index: number; readonly line: string; readonly reason: 'unsendable' | 'skip' | 'close' }
  /** A recorded response to a skipped command was dropped. */
  | { readonly kind: 'dropped'; readonly index: number; readonly id: string }
  /** `close()` came before the transcript's `close stdin`: this many out/err/exit records were not played. */
  | { readonly kind: 'closed-early'; readonly dropped: number };

/** Epoch of the `"<ts>"` placeholders put back as numbers: `TIMESTAMP_BASE_MS + t`. */
export const TIMESTAMP_BASE_MS = 1_700_000_000_000;

const TS_VALUE = new RegExp(`((?<!\\\\)"\\s*:\\s*)"${TIMESTAMP_PLACEHOLDER}"`, 'g');
const MINIMAL_STATE: Readonly<Record<string, unknown>> = Object.freeze({ isStreaming: false, isCompacting: false });

type InState = 'open' | 'matched' | 'skipped';

/** A command waiting for its synthesized answer. */
interface Synthetic {
  readonly t: number;
  readonly command: SentCommand;
}

/**
 * Plays a transcript back as a {@link PiTransport}; build one with {@link replayTranscript}.
 *
 * The recorded `in` lines are gates: the `out`/`err`/`exit` records after one are released only
 * once the session sent a matching command. A command matches the next unplayed `in` line if
 * it has the same `type`. A dialog answer (`extension_ui_response`, which pi never answers) may
 * also match a later one with the same `id` recorded back to back with it (only notes between):
 * a session cancels open dialogs *before* it sends `abort`. Recorded ids are rewritten to the
 * session's in every later `response`/`prompt_result` that carries them. A `close stdin` note is
 * a gate for `close()`. Commands without a match are answered by
 * {@link ReplayTranscriptOptions.unmatched} (a synthesized idle `get_state` by default), and
 * logged in {@link deviations}.
 */
export class ReplayTransport implements PiTransport {
  /** Every command the session wrote, in order. */
  readonly sent: SentCommand[] = [];
  /** What the session did differently from the recording, in order. */
  readonly deviations: ReplayDeviation[] = [];
  readonly lines$: Observable<TransportLine>;
  readonly exited: Promise<ExitInfo>;
  /** The records being played. */
  readonly records: readonly TranscriptRecord[];
  /**
   * The dialect the recording was made with: the `spawn` note's `dialect`/`version` fields
   * (written by {@link recordTranscript}), else `omp` when the spawned binary is named `omp`.
   * The session then ends runs the way it did when recorded.
   */
  readonly dialect: { readonly dialect: Dialect; readonly version?: string } | undefined;
  /**
   * A factory handing this transport to one session: `new PiClient({ transportFactory:
   * replay.transportFactory })`. It also picks up the session's `onStderr`. A second call throws.
   */
  readonly transportFactory: TransportFactory;

  readonly #options: ReplayTranscriptOptions;
  readonly #name: string;
  readonly #commands: (SentCommand | undefined)[];
  readonly #inState = new Map<number, InState>();
  readonly #idMap = new Map<string, string | null>();
  readonly #skippedIds = new Map<string, number>();
  readonly #lines = new Subject<TransportLine>();
  readonly #backlog: TransportLine[] = [];
  readonly #stderr = new StderrTail();
  readonly #readyT: number;
  readonly #firstState: Readonly<Record<string, unknown>> | undefined;
  readonly #spawnState: Readonly<Record<string, unknown>>;
  #synthetic: Synthetic[] = [];
  #lastState: Readonly<Record<string, unknown>> | undefined;
  #streaming = false;
  #onStderr: ((line: string) => void) | undefined;
  #claimed = false;
  #subscribed = false;
  #stdoutEnded = false;
  #started = false;
  #closing = false;
  #exit: ExitInfo | undefined;
  #resolveExit!: (info: ExitInfo) => void;
  #cursor = 0;
  #now = 0;
  #version = 0;
  #cancelStep: (() => void) | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(records: readonly TranscriptRecord[], options: ReplayTranscriptOptions = {}) {
    this.records = records;
    this.#options = options;
    this.#name = options.name ?? 'transcript';
    this.#commands = records.map((record) => (record.dir === 'in' ? asCommand(record.line) : undefined));
    records.forEach((record, index) => {
      if (record.dir === 'in' && this.#commands[index] === undefined) {
        this.#inState.set(index, 'skipped');
        this.deviations.push({ kind: 'skipped', index, line: record.line, reason: 'unsendable' });
      }
    });
    this.#readyT = records.find((record) => record.dir === 'out')?.t ?? Number.POSITIVE_INFINITY;
    this.#firstState = records.map((record) => (record.dir === 'out' ? stateOf(record.line) : undefined)).find((state) => state !== undefined);
    this.#spawnState = spawnState(records);
    this.dialect = spawnDialect(records);
    this.exited = new Promise((resolve) => {
      this.#resolveExit = resolve;
    });
    this.lines$ = new Observable<TransportLine>((subscriber) => {
      this.#subscribed = true;
      for (const line of this.#backlog.splice(0)) subscriber.next(line);
      if (this.#stdoutEnded) {
        subscriber.complete();
        return undefined;
      }
      const subscription = this.#lines.subscribe(subscriber);
      return () => {
        this.#subscribed = false;
        subscription.unsubscribe();
      };
    });
    this.transportFactory = (_config, factoryOptions) => {
      if (this.#claimed) throw new Error(`replayTranscript(${this.#name}): a replay plays one process; make one per session`);
      this.#claimed = true;
      this.#onStderr = factoryOptions.onStderr;
      return this;
    };
  }

  get pid(): number | undefined {
    return this.#started ? (this.#options.pid ?? 424242) : undefined;
  }
  get exitCode(): number | null {
    return this.#exit?.exitCode ?? null;
  }
  get stderrTail(): string {
    return this.#stderr.text;
  }

  /** Where the replay waits next (see {@link ReplayGate}). */
  get gate(): ReplayGate {
    if (this.#exit) return { kind: 'end', exit: this.#exit };
    for (let index = this.#cursor; index < this.records.length; index++) {
      const record = this.records[index] as TranscriptRecord;
      if (record.dir === 'exit') return { kind: 'end', exit: undefined };
      if (this.#isEof(record) && !this.#closing) return { kind: 'eof', index };
      const command = this.#commands[index];
      if (record.dir === 'in' && command && this.#inState.get(index) === undefined) return { kind: 'in', index, line: record.line, command };
    }
    return { kind: 'end', exit: undefined };
  }

  start(): Promise<void> {
    this.#started = true;
    this.#kick();
    return Promise.resolve();
  }

  send(command: object): Promise<void> {
    if (!this.#started) return Promise.reject(new TransportClosedError('send() before start()'));
    if (this.#exit || this.#closing) {
      return Promise.reject(new TransportClosedError('send() after the pi process exited', this.#exit ?? {}));
    }
    const parsed = JSON.parse(JSON.stringify(command)) as SentCommand;
    this.sent.push(parsed);
    this.#version++;
    const index = this.#match(parsed);
    if (index !== undefined) {
      this.#inState.set(index, 'matched');
      const recordedId = this.#commands[index]?.id;
      if (parsed.type !== 'extension_ui_response' && typeof recordedId === 'string') {
        if (typeof parsed.id === 'string') this.#idMap.set(recordedId, parsed.id);
        else this.#idMap.delete(recordedId);
      }
    } else {
      const t = Math.max(this.#now, this.#readyT) + (this.#options.replyLatencyMs ?? 1);
      this.#synthetic.push({ t, command: parsed });
    }
    this.#kick();
    return Promise.resolve();
  }

  /**
   * Gives up on the `in` line the replay waits for (the session will not send it) and plays on.
   * Recorded responses carrying its id are dropped.
   *
   * @return False when the replay is not waiting for an `in` line.
   */
  skip(): boolean {
    const gate = this.gate;
    if (gate.kind !== 'in') return false;
    this.#skipIn(gate.index, 'skip');
    this.#version++;
    this.#kick();
    return true;
  }

  /**
   * Resolves with the {@link gate} once the replay has released everything it can and the
   * session has had a macrotask to react without sending anything new. Meant for `'asap'`
   * timing (with a virtual scheduler, flush it first).
   */
  async idle(): Promise<ReplayGate> {
    for (;;) {
      if (this.#cancelStep) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
      const version = this.#version;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!this.#cancelStep && this.#version === version) return this.gate;
    }
  }

  /**
   * Ends the replay as pi ends on EOF: the records after the transcript's next `close stdin`
   * note are played (pi's last words), then its `exit`. Records before that note that were not
   * played yet are dropped (logged as `closed-early`). Without such a note the process exits
   * with code 0 at once.
   */
  async close(): Promise<CloseResult> {
    if (!this.#started) return { exitCode: null, signal: null, stderrTail: this.stderrTail, escalation: 'not-started' };
    if (this.#exit) return { ...this.#exit, escalation: 'already-exited' };
    if (!this.#closing) {
      this.#closing = true;
      this.#version++;
      for (const { command } of this.#synthetic.splice(0)) {
        this.deviations.push({ kind: 'unmatched', type: command.type, id: command.id, answered: false });
      }
      let eof = -1;
      for (let index = this.#cursor; index < this.records.length; index++) {
        if (this.#isEof(this.records[index] as TranscriptRecord)) {
          eof = index;
          break;
        }
      }
      const end = eof === -1 ? this.records.length : eof + 1;
      let dropped = 0;
      for (let index = this.#cursor; index < end; index++) {
        const record = this.records[index] as TranscriptRecord;
        if (record.dir === 'out' || record.dir === 'err' || record.dir === 'exit') dropped++;
        if (record.dir === 'in' && this.#inState.get(index) === undefined) this.#skipIn(index, 'close');
      }
      if (dropped > 0) this.deviations.push({ kind: 'closed-early', dropped });
      this.#cursor = end;
      this.#kick();
    }
    const info = await this.exited;
    return { ...info, escalation: escalationOf(info) };
  }

  // -------------------------------------------------------------------------------------------

  #isEof(record: TranscriptRecord): boolean {
    return record.dir === 'note' && record.note.startsWith(CLOSE_STDIN_NOTE);
  }

  #state(): Readonly<Record<string, unknown>> {
    return this.#lastState ?? this.#firstState ?? this.#options.state ?? this.#spawnState;
  }

  /** The recorded `in` a sent command matches: in the burst of unplayed `in` lines ahead. */
  #match(sent: SentCommand): number | undefined {
    const burst: number[] = [];
    for (let index = this.#cursor; index < this.records.length; index++) {
      const record = this.records[index] as TranscriptRecord;
      if (record.dir === 'note' || record.dir === 'llm') {
        if (this.#isEof(record) && !this.#closing) break;
        continue;
      }
      if (record.dir !== 'in') {
        if (burst.length > 0) break;
        continue;
      }
      if (this.#inState.get(index) !== undefined) continue;
      burst.push(index);
    }
    // Only a dialog answer may match ahead: pi sends nothing back for it, so playing it early
    // can't leave the session waiting for a response recorded behind the lines it skipped.
    const candidates = sent.type === 'extension_ui_response' ? burst : burst.slice(0, 1);
    const fits = (index: number): boolean => {
      const recorded = this.#commands[index];
      if (!recorded || recorded.type !== sent.type) return false;
      return sent.type !== 'extension_ui_response' || recorded.id === sent.id;
    };
    const same = (index: number): boolean => sameCommand(this.#commands[index], sent);
    const found = candidates.find((index) => fits(index) && same(index)) ?? candidates.find(fits);
    if (found !== undefined && found !== burst[0]) this.deviations.push({ kind: 'reordered', type: sent.type, index: found });
    return found;
  }

  #skipIn(index: number, reason: 'skip' | 'close'): void {
    this.#inState.set(index, 'skipped');
    const record = this.records[index] as TranscriptRecord & { dir: 'in' };
    this.deviations.push({ kind: 'skipped', index, line: record.line, reason });
    const id = this.#commands[index]?.id;
    if (typeof id === 'string' && this.#commands[index]?.type !== 'extension_ui_response') {
      this.#idMap.set(id, null);
      this.#skippedIds.set(id, index);
    }
  }

  /** The next record to release, or why there is none. Advances the cursor over passive records. */
  #nextRecord(): { kind: 'record'; record: TranscriptRecord } | { kind: 'blocked' } {
    while (this.#cursor < this.records.length) {
      const record = this.records[this.#cursor] as TranscriptRecord;
      if (record.dir === 'out' || record.dir === 'err' || record.dir === 'exit') return { kind: 'record', record };
      if (record.dir === 'in') {
        const state = this.#inState.get(this.#cursor);
        if (state === undefined) {
          if (!this.#closing) return { kind: 'blocked' };
          this.#skipIn(this.#cursor, 'close');
        }
        if (state === 'matched') this.#now = Math.max(this.#now, record.t);
      } else if (this.#isEof(record) && !this.#closing) {
        return { kind: 'blocked' };
      }
      this.#cursor++;
    }
    return { kind: 'blocked' };
  }

  #kick(): void {
    if (!this.#started || this.#exit || this.#cancelStep) return;
    const next = this.#peekTime();
    if (next === undefined) {
      this.#wakeIdle();
      return;
    }
    const delay = this.#options.timing === 'recorded' && Number.isFinite(next) ? Math.max(0, next - this.#now) : 0;
    this.#cancelStep = this.#schedule(() => {
      this.#cancelStep = undefined;
      this.#step();
      this.#kick();
    }, delay);
  }

  /** The recorded time of what {@link #step} would release next, or undefined when blocked. */
  #peekTime(): number | undefined {
    const next = this.#nextRecord();
    const synthetic = this.#synthetic[0];
    if (next.kind === 'record') return synthetic && synthetic.t <= next.record.t ? synthetic.t : next.record.t;
    if (synthetic) return synthetic.t;
    if (this.#closing && this.#cursor >= this.records.length) return this.#now; // exit 0 without a recorded exit
    return undefined;
  }

  #step(): void {
    if (this.#exit) return;
    this.#version++;
    const next = this.#nextRecord();
    const synthetic = this.#synthetic[0];
    if (synthetic && (next.kind !== 'record' || synthetic.t <= next.record.t)) {
      this.#synthetic.shift();
      if (Number.isFinite(synthetic.t)) this.#now = Math.max(this.#now, synthetic.t);
      const answer = this.#options.unmatched ?? defaultUnmatched;
      const frames = answer(synthetic.command, { state: this.#state(), streaming: this.#streaming });
      const { type, id } = synthetic.command;
      this.deviations.push({ kind: 'unmatched', type, id, answered: frames.length > 0 });
      for (const frame of frames) this.#emit(JSON.stringify(frame));
      return;
    }
    if (next.kind !== 'record') {
      if (this.#closing && this.#cursor >= this.records.length) this.#finish({ exitCode: 0, signal: null, stderrTail: this.stderrTail });
      return;
    }
    const record = next.record;
    this.#cursor++;
    this.#now = Math.max(this.#now, record.t);
    switch (record.dir) {
      case 'out': {
        if (record.oversize !== undefined) {
          this.#emit(new OversizeLine(record.oversize, record.line));
          return;
        }
        this.#track(record.line, this.#cursor - 1);
        const line = this.#rewrite(record.line, record.t);
        if (line !== undefined) this.#emit(line);
        return;
      }
      case 'err':
        this.#stderr.push(new TextEncoder().encode(`${record.line}\n`), this.#onStderr);
        return;
      case 'exit':
        this.#finish({ exitCode: record.code, signal: record.signal, stderrTail: this.stderrTail });
        return;
      default:
        return;
    }
  }

  /** Follows whether the recorded pi is in a run (see {@link UnmatchedContext.streaming}). */
  #track(line: string, index: number): void {
    const marker = markerOf(line);
    if (marker === 'start') this.#streaming = true;
    else if (marker === 'end') this.#streaming = false;
    else if (marker === 'prompt-ok') this.#streaming ||= this.#nextMarker(index + 1) === 'start';
  }

  /** The next `agent_start`/`agent_end`/prompt response recorded from `from` on. */
  #nextMarker(from: number): Marker | undefined {
    for (let index = from; index < this.records.length; index++) {
      const record = this.records[index] as TranscriptRecord;
      if (record.dir !== 'out') continue;
      const marker = markerOf(record.line);
      if (marker) return marker;
    }
    return undefined;
  }

  /** Puts timestamps back, rewrites recorded ids to the session's, drops answers to skipped commands. */
  #rewrite(recorded: string, t: number): string | undefined {
    let line = recorded;
    if (line.includes(`"${TIMESTAMP_PLACEHOLDER}"`)) line = line.replace(TS_VALUE, (_, key: string) => `${key}${TIMESTAMP_BASE_MS + Math.round(t)}`);
    if (!line.includes('"response"') && !line.includes('"prompt_result"')) return line;
    const frame = asObject(line);
    if (!frame || (frame['type'] !== 'response' && frame['type'] !== 'prompt_result')) return line;
    const id = frame['id'];
    if (typeof id === 'string' && this.#idMap.has(id)) {
      const mapped = this.#idMap.get(id);
      if (mapped === null || mapped === undefined) {
        this.deviations.push({ kind: 'dropped', index: this.#skippedIds.get(id) ?? -1, id });
        return undefined;
      }
      frame['id'] = mapped;
      line = JSON.stringify(frame);
    }
    const state = stateOf(line);
    if (state) this.#lastState = state;
    return line;
  }

  #emit(line: TransportLine): void {
    if (this.#stdoutEnded) return;
    if (this.#subscribed) this.#lines.next(line);
    else this.#backlog.push(line);
  }

  #finish(info: ExitInfo): void {
    if (this.#exit) return;
    this.#exit = info;
    this.#version++;
    this.#cancelStep?.();
    this.#cancelStep = undefined;
    this.#stdoutEnded = true;
    this.#lines.complete();
    this.#resolveExit(info);
    this.#wakeIdle();
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  #schedule(work: () => void, delay: number): () => void {
    const scheduler = this.#options.scheduler ?? (this.#options.timing === 'recorded' ? asyncScheduler : undefined);
    if (scheduler) {
      const subscription = scheduler.schedule(work, delay);
      return () => subscription.unsubscribe();
    }
    const handle = setImmediate(work);
    return () => clearImmediate(handle);
  }
}

/**
 * Plays a transcript back to a session: a {@link ReplayTransport} (a `PiTransport`) for tests
 * without pi. Hand it to the client with its `transportFactory`, then drive the session as the
 * recording did; the replay answers each command with what pi printed after it.
 *
 * - Recorded `in` lines are matched in order to the session's sends by command `type`; ids are
 *   rewritten (recorded id → the session's) in the responses. `in` lines no session can write
 *   (not a JSON object with a string `type`) are skipped.
 * - The `out` lines recorded after an `in` are released once it is matched; the session's extra
 *   `get_state` commands (it sends one after each `agent_end`) get a synthesized answer from the
 *   last recorded `get_state` data, with `isStreaming: false` whenever the recorded pi was idle
 *   at that point (after an `agent_end`), `true` inside a recorded run (so a `get_state` sent
 *   between a prompt's response and its `agent_start` doesn't end the run early).
 * - `err` lines feed `stderrTail` and `onStderr`; an `exit` record ends stdout and resolves
 *   `exited` with the recorded code and signal; a `close stdin` note waits for `close()`.
 * - `"<ts>"` placeholders (see {@link TranscriptNormalizer}) become epoch-ms numbers again.
 *
 * ## Example
 * ```ts
 * const replay = replayTranscript('spec/fixtures/pi-b-text.jsonl');
 * const session = await new PiClient({ transportFactory: replay.transportFactory }).start({ cwd, approve: 'none' });
 * const result = await session.prompt('scenario:text Say hello'); // answered from the recording
 * await session.close();
 * expect(replay.deviations).toEqual([]);
 * ```
 *
 * @param source A transcript path, or its records or JSONL lines.
 * @param options Timing, synthesized answers.
 * @return The transport, with `transportFactory`, `idle()`, `skip()`, `sent` and `deviations`.
 * @throws {Error} when the transcript can't be read or a line is not a record.
 * @see {@link recordTranscript}
 */
export function replayTranscript(source: string | readonly (string | TranscriptRecord)[], options: ReplayTranscriptOptions = {}): ReplayTransport {
  if (typeof source === 'string') return new ReplayTransport(readTranscript(source), { name: source, ...options });
  const name = options.name ?? 'transcript';
  const records = source.map((item, index) => (typeof item === 'string' ? parseRecord(item, `${name}:${index + 1}`) : item));
  return new ReplayTransport(records, options);
}

function defaultUnmatched(command: SentCommand, context: UnmatchedContext): readonly object[] {
  const id = command.id === undefined ? {} : { id: command.id };
  if (command.type === 'get_state') {
    const data = { ...context.state, isStreaming: context.streaming, isCompacting: false };
    return [{ ...id, type: 'response', command: 'get_state', success: true, data }];
  }
  if (command.type === 'extension_ui_response') return [];
  return [
    {
      ...id,
      type: 'response',
      command: command.type,
      success: false,
      error: `pidriver replay: the transcript has no recorded answer for "${command.type}"`,
    },
  ];
}

type Marker = 'start' | 'end' | 'prompt-ok';

/** Run boundaries in a recorded stdout line. */
function markerOf(line: string): Marker | undefined {
  const start = line.includes('"agent_start"');
  const end = line.includes('"agent_end"');
  const prompt = line.includes('"prompt"') && line.includes('"response"');
  if (!start && !end && !prompt) return undefined;
  const type = asObject(line)?.['type'];
  if (type === 'agent_start') return 'start';
  if (type === 'agent_end') return 'end';
  if (type === 'response' && prompt) {
    const frame = asObject(line);
    if (frame?.['command'] === 'prompt' && frame['success'] === true) return 'prompt-ok';
  }
  return undefined;
}

/** The dialect named by the `spawn` note (see {@link ReplayTransport.dialect}). */
function spawnDialect(records: readonly TranscriptRecord[]): ReplayTransport['dialect'] {
  const spawn = records.find((record) => record.dir === 'note' && record.note.startsWith('spawn'));
  if (spawn?.dir !== 'note') return undefined;
  const dialect = (spawn as Record<string, unknown>)['dialect'];
  const version = (spawn as Record<string, unknown>)['version'];
  if (typeof dialect === 'string' && (DIALECTS as readonly string[]).includes(dialect)) {
    return Object.freeze({ dialect: dialect as Dialect, ...(typeof version === 'string' ? { version } : {}) });
  }
  const binary = spawn.note.split(/\s+/)[1] ?? '';
  return basename(binary) === 'omp' ? Object.freeze({ dialect: 'omp' as const }) : undefined;
}

/** A minimal idle state, with the model named by the `spawn` note's flags when there is one. */
function spawnState(records: readonly TranscriptRecord[]): Readonly<Record<string, unknown>> {
  const spawn = records.find((record) => record.dir === 'note' && record.note.startsWith('spawn '));
  if (spawn?.dir !== 'note') return MINIMAL_STATE;
  const argv = spawn.note.split(/\s+/);
  const flag = (name: string): string | undefined => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const model = flag('--model');
  if (model === undefined) return MINIMAL_STATE;
  const slash = model.indexOf('/');
  const provider = flag('--provider') ?? (slash > 0 ? model.slice(0, slash) : undefined);
  if (provider === undefined) return MINIMAL_STATE;
  const id = flag('--provider') === undefined && slash > 0 ? model.slice(slash + 1) : model;
  return Object.freeze({ ...MINIMAL_STATE, model: { provider, id } });
}

function asObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function asCommand(line: string): SentCommand | undefined {
  const value = asObject(line);
  return value && typeof value['type'] === 'string' ? (value as SentCommand) : undefined;
}

function stateOf(line: string): Readonly<Record<string, unknown>> | undefined {
  if (!line.includes('"get_state"')) return undefined;
  const frame = asObject(line);
  if (!frame || frame['type'] !== 'response' || frame['command'] !== 'get_state' || frame['success'] !== true) return undefined;
  const data = frame['data'];
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
}

function sameCommand(recorded: SentCommand | undefined, sent: SentCommand): boolean {
  if (!recorded) return false;
  const strip = ({ id: _id, ...rest }: SentCommand): Record<string, unknown> => rest;
  return JSON.stringify(sortKeys(strip(recorded))) === JSON.stringify(sortKeys(strip(sent)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

function escalationOf(info: ExitInfo): CloseEscalation {
  if (info.signal === 'SIGKILL') return 'sigkill';
  if (info.signal === 'SIGTERM' || info.exitCode === 143) return 'sigterm';
  return 'eof';
}
