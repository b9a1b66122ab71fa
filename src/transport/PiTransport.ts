import type { Observable } from 'rxjs';
import type { PiConfig } from '../config/PiConfig.js';
import type { Dialect } from '../protocol/dialects.js';
import type { OversizeLine, ScannedLine } from './LineSplitter.js';

/**
 * One stdout line, a marker for a line longer than `maxLineBytes` (dropped, not buffered), or a
 * `message_update` line the transport already read with the fast path (`line.line` is its text).
 */
export type TransportLine = string | OversizeLine | ScannedLine;

/** How the process ended. */
export interface ExitInfo {
  /** Exit code, or `null` when killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The last lines of stderr (bounded). */
  readonly stderrTail: string;
}

/** What `close()` had to do. */
export type CloseEscalation = 'not-started' | 'already-exited' | 'eof' | 'sigterm' | 'sigkill';

export interface CloseResult extends ExitInfo {
  /** The gentlest step that ended the process: EOF on stdin, then SIGTERM, then SIGKILL. */
  readonly escalation: CloseEscalation;
}

export interface CloseOptions {
  /** How long to wait after EOF, and again after SIGTERM. */
  readonly timeoutMs?: number;
}

/**
 * The swap boundary between a session and a pi process: JSONL out, JSONL in. It does not
 * correlate ids or interpret frames; that is the session's job. Tests use a fake
 * (`pidriver/testing`); {@link SubprocessTransport} is the real one.
 *
 * Contract:
 * - `lines$` has one subscriber at a time. Lines are not lost between `start()` and the first
 *   subscription (they wait in the pipe). It completes when stdout ends.
 * - `send()` before `start()` or after the process exited rejects with `TransportClosedError`.
 * - stderr never enters `lines$`; it goes to an `onStderr` callback and a bounded tail.
 * - `close()` is idempotent and always leaves no process behind.
 */
export interface PiTransport {
  readonly lines$: Observable<TransportLine>;
  /**
   * Spawns the process. Rejects with `PiNotFoundError` / `PiStartError` if it can't. A fake may
   * return at once, without a promise (then a session over it runs in virtual time).
   */
  start(): Promise<void> | void;
  /** Writes one command as one JSON line; writes are serialised in call order. */
  send(command: object): Promise<void>;
  /** Ends the process (see the contract). A fake may return its result at once, without a promise. */
  close(options?: CloseOptions): Promise<CloseResult> | CloseResult;
  /** Settles once the process is gone (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /**
   * How the process ended, as soon as that is known without waiting for {@link exited} (a fake on
   * a TestScheduler knows it at once, so a session over it handles a death in virtual time).
   * Optional: without it the session waits for `exited`.
   */
  readonly exitInfo?: ExitInfo | undefined;
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  readonly stderrTail: string;
  /**
   * Which pi the transport knows it talks to, if it knows better than detection (a replay knows
   * what was recorded). `PiClient` uses it when it did not detect the dialect itself.
   */
  readonly dialect?: { readonly dialect: Dialect; readonly version?: string | undefined } | undefined;
}

/** Builds a transport for a session: `(config, { cwd }) => PiTransport`. */
export type TransportFactory = (config: PiConfig, options: TransportFactoryOptions) => PiTransport;

export interface TransportFactoryOptions {
  readonly cwd: string;
  readonly onStderr?: (line: string) => void;
}
