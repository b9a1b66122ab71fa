/**
 * The transcript format (one JSON record per line) and a recorder that taps a session's wire.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tap, type Observable } from 'rxjs';
import { z } from 'zod';
import { OversizeLine, ScannedLine } from '../transport/LineSplitter.js';
import type { CloseOptions, CloseResult, ExitInfo, PiTransport, TransportFactory, TransportFactoryOptions, TransportLine } from '../transport/PiTransport.js';
import type { PiConfig } from '../config/PiConfig.js';
import { detectPi } from '../transport/detectDialect.js';
import { SubprocessTransport } from '../transport/SubprocessTransport.js';
import { TranscriptNormalizer, type NormalizeOptions } from './normalizeTranscript.js';

const t = z.number();

/**
 * One transcript record. `t` is in milliseconds since the recorder's clock started (just before
 * spawn). The shape is the one of the recorded fixtures in `spec/fixtures/transcripts/`:
 *
 * | `dir` | fields | meaning |
 * |---|---|---|
 * | `in` | `line` | one line written to pi's stdin (without `\n`) |
 * | `out` | `line` (+ `oversize`) | one stdout line; with `oversize`, a line of that many bytes the transport dropped, `line` being its head |
 * | `err` | `line` | one stderr line |
 * | `note` | `note` (+ any) | a driver annotation: `spawn …`, `close stdin`, `kill SIGTERM`, … |
 * | `exit` | `code`, `signal` | the process exited |
 * | `llm` | any | a request the fake LLM server received (not written by the recorder) |
 */
export const TranscriptRecordSchema = z.discriminatedUnion('dir', [
  z.looseObject({ dir: z.literal('in'), t, line: z.string() }),
  z.looseObject({ dir: z.literal('out'), t, line: z.string(), oversize: z.number().int().nonnegative().optional() }),
  z.looseObject({ dir: z.literal('err'), t, line: z.string() }),
  z.looseObject({ dir: z.literal('note'), t, note: z.string() }),
  z.looseObject({ dir: z.literal('exit'), t, code: z.number().int().nullable(), signal: z.string().nullable() }),
  z.looseObject({ dir: z.literal('llm'), t }),
]);
/** One transcript record; see {@link TranscriptRecordSchema}. */
export type TranscriptRecord = z.infer<typeof TranscriptRecordSchema>;

/** The note the recorder writes when the session closes pi's stdin; a replay waits for `close()` there. */
export const CLOSE_STDIN_NOTE = 'close stdin';

/**
 * Parses transcript text (JSONL). Blank lines are skipped.
 *
 * @param text The file's content.
 * @param source Named in error messages.
 * @return The records, in order.
 * @throws {Error} naming the line that is not a valid record.
 */
export function parseTranscript(text: string, source = 'transcript'): TranscriptRecord[] {
  const records: TranscriptRecord[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] as string).trim();
    if (line.length === 0) continue;
    records.push(parseRecord(line, `${source}:${index + 1}`));
  }
  return records;
}

/**
 * Reads a transcript file (synchronously: it is meant for tests).
 *
 * @param path A `.jsonl` transcript.
 * @return The records, in order.
 */
export function readTranscript(path: string): TranscriptRecord[] {
  return parseTranscript(readFileSync(path, 'utf8'), path);
}

/** @internal Parses one record line. */
export function parseRecord(line: string, where: string): TranscriptRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new Error(`${where}: not JSON: ${(error as Error).message}`);
  }
  const result = TranscriptRecordSchema.safeParse(value);
  if (!result.success) {
    throw new Error(
      `${where}: not a transcript record: ${result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`,
    );
  }
  return result.data;
}

/** Receives each record as it happens. */
export type TranscriptSink = (record: TranscriptRecord) => void;

/** Options of {@link recordingTransport}. */
export interface RecordingTransportOptions {
  /** The `t` of each record: ms since the clock started. Default: `performance.now()` since the wrapper was made, 0.1 ms resolution. */
  readonly clock?: () => number;
  /** The command line, for the `spawn` note. */
  readonly argv?: readonly string[];
  /** The working directory, for the `spawn` note. */
  readonly cwd?: string;
  /** The config, for the `spawn` note's argv (`argv` wins), `dialect` and `version` (detected, cached). */
  readonly config?: PiConfig;
}

/**
 * Wraps a transport so that its wire is written to `sink`: every command sent (`in`), every
 * stdout line (`out`), `start()` (a `spawn` note), `close()` (a `close stdin` note) and the exit
 * (`exit`). The wrapper changes nothing the session sees.
 *
 * A transport reports stderr only through its factory's `onStderr`, so this wrapper can't see
 * it; {@link recordTranscript} taps that too. Records are written raw: pass them through a
 * {@link TranscriptNormalizer} to normalise them.
 *
 * ## Example
 * ```ts
 * const records: TranscriptRecord[] = [];
 * const client = new PiClient({
 *   transportFactory: (config, options) => recordingTransport(new SubprocessTransport(config, options), (r) => records.push(r)),
 * });
 * ```
 *
 * @param inner The transport that does the work.
 * @param sink Gets each record, synchronously, in wire order.
 * @param options The clock, and what the `spawn` note says.
 * @return A transport to hand to the session.
 * @see {@link recordTranscript}
 */
export function recordingTransport(inner: PiTransport, sink: TranscriptSink, options: RecordingTransportOptions = {}): PiTransport {
  return new RecordingTransport(inner, sink, options.clock ?? startClock(), options);
}

class RecordingTransport implements PiTransport {
  readonly lines$: Observable<TransportLine>;
  readonly exited: Promise<ExitInfo>;

  readonly #inner: PiTransport;
  readonly #sink: TranscriptSink;
  readonly #clock: () => number;
  readonly #options: RecordingTransportOptions;
  #started = false;
  #stdoutDone = false;
  #exit: ExitInfo | undefined;
  #exitWritten = false;

  constructor(inner: PiTransport, sink: TranscriptSink, clock: () => number, options: RecordingTransportOptions) {
    this.#inner = inner;
    this.#sink = sink;
    this.#clock = clock;
    this.#options = options;
    this.lines$ = inner.lines$.pipe(
      tap({
        next: (line) =>
          this.#write(
            line instanceof OversizeLine
              ? { dir: 'out', t: this.#clock(), line: line.head, oversize: line.bytes }
              : { dir: 'out', t: this.#clock(), line: line instanceof ScannedLine ? line.line : line },
          ),
        error: () => this.#onStdoutDone(),
        complete: () => this.#onStdoutDone(),
      }),
    );
    this.exited = inner.exited;
    inner.exited.then(
      (info) => {
        this.#exit = info;
        if (this.#stdoutDone) this.#writeExit(info);
      },
      () => undefined,
    );
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
  get dialect(): PiTransport['dialect'] {
    return this.#inner.dialect;
  }

  async start(): Promise<void> {
    // Which pi this is, so a replay ends runs the way this session did; the argv is that dialect's.
    const config = this.#options.config;
    const detected = config ? await detectPi(config).catch(() => undefined) : undefined;
    let argv = this.#options.argv;
    if (config && argv === undefined) {
      try {
        argv = config.toLaunchArgv(detected ? { dialect: detected.dialect } : {});
      } catch {
        // the transport will refuse this config itself
      }
    }
    this.#write({
      dir: 'note',
      t: this.#clock(),
      note: argv ? `spawn ${argv.join(' ')}` : 'spawn',
      ...(this.#options.cwd !== undefined ? { cwd: this.#options.cwd } : {}),
      ...(detected ? { dialect: detected.dialect, ...(detected.version ? { version: detected.version } : {}) } : {}),
    });
    try {
      await this.#inner.start();
      this.#started = true;
    } catch (error) {
      this.#write({ dir: 'note', t: this.#clock(), note: `start failed: ${error instanceof Error ? error.message : String(error)}` });
      throw error;
    }
  }

  send(command: object): Promise<void> {
    const sent = this.#inner.send(command);
    // Only what reached the wire: the inner transport rejects sends before start or after exit.
    if (this.#started && this.#exit === undefined) this.#write({ dir: 'in', t: this.#clock(), line: JSON.stringify(command) });
    return sent;
  }

  async close(options?: CloseOptions): Promise<CloseResult> {
    if (this.#started && this.#exit === undefined && !this.#exitWritten) this.#write({ dir: 'note', t: this.#clock(), note: CLOSE_STDIN_NOTE });
    const result = await this.#inner.close(options);
    if (result.escalation !== 'not-started') this.#writeExit(result);
    return result;
  }

  #onStdoutDone(): void {
    this.#stdoutDone = true;
    if (this.#exit) this.#writeExit(this.#exit);
  }

  #writeExit(info: ExitInfo): void {
    if (this.#exitWritten) return;
    this.#exitWritten = true;
    this.#write({ dir: 'exit', t: this.#clock(), code: info.exitCode, signal: info.signal });
  }

  #write(record: TranscriptRecord): void {
    this.#sink(record);
  }
}

/** Options of {@link recordTranscript}. */
export interface RecordTranscriptOptions {
  /** The transport to record. Default: spawn pi ({@link SubprocessTransport}). */
  readonly transportFactory?: TransportFactory;
  /**
   * Replace machine-specific values with placeholders (default `true`; an object tunes it, see
   * {@link TranscriptNormalizer}). The config's `apiKey` is redacted in every case.
   */
  readonly normalize?: boolean | NormalizeOptions;
  /** The `t` of each record. Default: `performance.now()` since the transport was made, 0.1 ms resolution. */
  readonly clock?: () => number;
}

/** A transcript being recorded; see {@link recordTranscript}. */
export interface TranscriptRecording {
  /** Put this in `new PiClient({ transportFactory })`. One recording holds one process: a second call throws. */
  readonly transportFactory: TransportFactory;
  /** Records written so far. */
  readonly count: number;
  /**
   * Stops recording and, for a file, flushes and closes it. Call it after `session.close()`:
   * records that arrive later are dropped. Idempotent; rejects if the file could not be written.
   */
  close(): Promise<void>;
}

/**
 * Records a live session's wire, both directions with timestamps, as a transcript: to a JSONL
 * file in the fixtures' format, or to a function. Machine-specific values are normalised by
 * default (see {@link TranscriptNormalizer}) and the config's `apiKey` is never written.
 *
 * ## Example
 * ```ts
 * const recording = recordTranscript('spec/fixtures/my-scenario.jsonl');
 * const client = new PiClient({ config, transportFactory: recording.transportFactory });
 * const session = await client.start({ cwd });
 * await session.prompt('hello');
 * await session.close();
 * await recording.close();
 * // later, without pi: new PiClient({ transportFactory: replayTranscript('spec/fixtures/my-scenario.jsonl').transportFactory })
 * ```
 *
 * @param target A file path (truncated first) or a sink function.
 * @param options The transport to record (default: spawn pi), normalisation, clock.
 * @return The factory to give the client, and `close()`.
 * @see {@link recordingTransport} to tap a transport you build yourself.
 * @see {@link replayTranscript} to play the result back.
 */
export function recordTranscript(target: string | TranscriptSink, options: RecordTranscriptOptions = {}): TranscriptRecording {
  const normalizer =
    options.normalize === false
      ? new TranscriptNormalizer({ tmpRoots: [], uuids: false, timestamps: false })
      : new TranscriptNormalizer(options.normalize === true || options.normalize === undefined ? {} : options.normalize);
  const file = typeof target === 'string' ? createWriteStream(target, { flags: 'w', encoding: 'utf8' }) : undefined;
  let fileError: Error | undefined;
  file?.on('error', (error) => {
    fileError ??= error;
  });
  let count = 0;
  let closed: Promise<void> | undefined;
  let claimed = false;

  const sink: TranscriptSink = (record) => {
    if (closed) return;
    const normalized = normalizer.record(record);
    count++;
    if (file) file.write(`${JSON.stringify(normalized)}\n`);
    else (target as TranscriptSink)(normalized);
  };

  const transportFactory: TransportFactory = (config, factoryOptions) => {
    if (claimed) throw new Error('recordTranscript(): one recording holds one pi process; make a recording per session');
    claimed = true;
    if (config.apiKey !== undefined) normalizer.addSecret(config.apiKey);
    const clock = options.clock ?? startClock();
    const onStderr = factoryOptions.onStderr;
    const innerOptions: TransportFactoryOptions = {
      cwd: factoryOptions.cwd,
      onStderr: (line) => {
        sink({ dir: 'err', t: clock(), line });
        onStderr?.(line);
      },
    };
    const inner = (options.transportFactory ?? defaultTransportFactory)(config, innerOptions);
    return new RecordingTransport(inner, sink, clock, { cwd: factoryOptions.cwd, config });
  };

  return {
    transportFactory,
    get count() {
      return count;
    },
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        const done = () => (fileError ? reject(fileError) : resolve());
        if (!file) return done();
        if (file.destroyed) return done();
        file.end(() => done());
        file.once('error', (error) => reject(error));
      });
      return closed;
    },
  };
}

const defaultTransportFactory: TransportFactory = (config, options) =>
  new SubprocessTransport(config, { cwd: options.cwd, ...(options.onStderr ? { onStderr: options.onStderr } : {}) });

function startClock(): () => number {
  const origin = performance.now();
  return () => Math.round((performance.now() - origin) * 10) / 10;
}
