/**
 * A {@link PiTransport} that plays a recorded transcript back to a session, in answer to the
 * commands the session sends.
 */
import { asyncScheduler, type Observable } from 'rxjs';
import { TransportClosedError } from '../../errors.js';
import { OversizeLine } from '../../transport/LineSplitter.js';
import type { CloseEscalation, CloseResult, ExitInfo, PiTransport, TransportFactory, TransportLine } from '../../transport/PiTransport.js';
import { StderrTail } from '../../transport/StderrTail.js';
import { BufferedLines } from '../BufferedLines.js';
import type { SentCommand } from '../FakeTransport.js';
import { TIMESTAMP_PLACEHOLDER } from '../normalizeTranscript.js';
import { CLOSE_STDIN_NOTE, type TranscriptRecord } from '../recordTranscript.js';
import { defaultUnmatched } from './defaultUnmatched.js';
import type { Dialect } from '../../protocol/dialects.js';
import { asCommand, asObject, markerOf, sameCommand, spawnDialect, spawnState, stateOf, type Marker } from './recordedLines.js';
import type { ReplayDeviation, ReplayGate, ReplayTranscriptOptions } from './types.js';

/** Epoch of the `"<ts>"` placeholders put back as numbers: `TIMESTAMP_BASE_MS + t`. */
export const TIMESTAMP_BASE_MS = 1_700_000_000_000;

const TS_VALUE = new RegExp(`((?<!\\\\)"\\s*:\\s*)"${TIMESTAMP_PLACEHOLDER}"`, 'g');

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
  readonly #stdout = new BufferedLines<TransportLine>();
  readonly #stderr = new StderrTail();
  readonly #readyT: number;
  readonly #firstState: Readonly<Record<string, unknown>> | undefined;
  readonly #spawnState: Readonly<Record<string, unknown>>;
  #synthetic: Synthetic[] = [];
  #lastState: Readonly<Record<string, unknown>> | undefined;
  #streaming = false;
  #onStderr: ((line: string) => void) | undefined;
  #claimed = false;
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
    this.lines$ = this.#stdout.lines$;
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
    this.#stdout.write(line);
  }

  #finish(info: ExitInfo): void {
    if (this.#exit) return;
    this.#exit = info;
    this.#version++;
    this.#cancelStep?.();
    this.#cancelStep = undefined;
    this.#stdout.end();
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

function escalationOf(info: ExitInfo): CloseEscalation {
  if (info.signal === 'SIGKILL') return 'sigkill';
  if (info.signal === 'SIGTERM' || info.exitCode === 143) return 'sigterm';
  return 'eof';
}
