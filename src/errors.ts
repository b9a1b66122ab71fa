/**
 * The error family of pidriver. Every error the SDK raises is a {@link PiDriverError}, so one
 * `catch (e) { if (isPiDriverError(e)) … }` handles the lot.
 *
 * Don't construct these yourself; they are exported so you can `instanceof`-check them.
 *
 * Three tiers (see the README): protocol noise and domain failures become *events*
 * (`error`, `agent_end` with `reason: 'error'`); only a dead session or a failed command
 * becomes one of these errors.
 */

/** Brand that survives duplicate copies of the package (as execa's `isExecaError` does). */
const BRAND = Symbol.for('pidriver.error');

/** Process exit details shared by start and transport errors. */
export interface ExitDetails {
  /** Exit code, or `null` when the process was killed by a signal (or has not exited). */
  readonly exitCode: number | null;
  /** Signal that killed the process, if any. */
  readonly signal: string | null;
  /** The last lines pi wrote to stderr (bounded). */
  readonly stderrTail: string;
}

/** Base class of every error pidriver raises. */
export class PiDriverError extends Error {
  /** A stable machine-readable code, e.g. `'PI_NOT_FOUND'`. */
  readonly code: string;

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? 'PI_DRIVER_ERROR';
    Object.defineProperty(this, BRAND, { value: true });
  }
}
PiDriverError.prototype.name = 'PiDriverError';

/** True for any error raised by pidriver, even from another copy of the package. */
export function isPiDriverError(error: unknown): error is PiDriverError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

/** A {@link PiConfig} field failed validation. `field` names the first offending field. */
export class PiConfigError extends PiDriverError {
  readonly field: string;
  readonly issues: readonly { readonly path: string; readonly message: string }[];

  constructor(message: string, options: { field: string; issues?: readonly { path: string; message: string }[]; cause?: unknown }) {
    super(message, { cause: options.cause, code: 'PI_CONFIG_INVALID' });
    this.field = options.field;
    this.issues = options.issues ?? [{ path: options.field, message }];
  }
}
PiConfigError.prototype.name = 'PiConfigError';

/** The pi (or omp) executable could not be found or is not executable. */
export class PiNotFoundError extends PiDriverError {
  readonly binary: string;
  /** The directories searched. */
  readonly searched: readonly string[];

  /** `hint` replaces the default advice (install pi or set `PiConfig.binary`), e.g. for a missing runtime. */
  constructor(binary: string, options?: { cause?: unknown; searched?: readonly string[]; hint?: string }) {
    const where = options?.searched?.length ? ` (looked in: ${options.searched.join(', ')})` : '';
    const hint = options?.hint ?? 'Install @mariozechner/pi-coding-agent or set PiConfig.binary to an absolute path.';
    super(`pi executable not found: ${binary}${where}. ${hint}`, { cause: options?.cause, code: 'PI_NOT_FOUND' });
    this.binary = binary;
    this.searched = options?.searched ?? [];
  }
}
PiNotFoundError.prototype.name = 'PiNotFoundError';

/** The `pi --mode rpc` process failed to start: it exited, or never answered, before it was ready. */
export class PiStartError extends PiDriverError implements ExitDetails {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrTail: string;

  constructor(message: string, details: Partial<ExitDetails> & { cause?: unknown } = {}) {
    super(withStderr(message, details.stderrTail), { cause: details.cause, code: 'PI_START_FAILED' });
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.stderrTail = details.stderrTail ?? '';
  }
}
PiStartError.prototype.name = 'PiStartError';

/** A line from pi was not valid JSON or violated the protocol. `raw` holds the offending text. */
export class PiProtocolError extends PiDriverError {
  readonly raw: string;

  constructor(message: string, raw: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause, code: 'PI_PROTOCOL' });
    this.raw = raw;
  }
}
PiProtocolError.prototype.name = 'PiProtocolError';

/** An RPC command was answered with `success: false`. */
export class PiCommandError extends PiDriverError {
  /** The command type, e.g. `'set_model'`. */
  readonly command: string;
  /** pi's error text. */
  readonly error: string;
  /** Any `data` that came with the failure. */
  readonly data: unknown;

  constructor(command: string, error: string, data?: unknown) {
    super(`pi command "${command}" failed: ${error}`, { code: 'PI_COMMAND_FAILED' });
    this.command = command;
    this.error = error;
    this.data = data;
  }
}
PiCommandError.prototype.name = 'PiCommandError';

/** A response or an awaited condition did not arrive in time. */
export class PiTimeoutError extends PiDriverError {
  readonly timeoutMs: number;
  readonly operation: string;

  constructor(operation: string, timeoutMs: number, detail?: string) {
    super(`${operation} timed out after ${timeoutMs} ms${detail ? `: ${detail}` : ''}`, { code: 'PI_TIMEOUT' });
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}
PiTimeoutError.prototype.name = 'PiTimeoutError';

/** An operation was attempted on a transport that is not started, or whose process has exited. */
export class TransportClosedError extends PiDriverError implements ExitDetails {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrTail: string;

  constructor(message: string, details: Partial<ExitDetails> & { cause?: unknown; code?: string } = {}) {
    super(withStderr(message, details.stderrTail), { cause: details.cause, code: details.code ?? 'PI_TRANSPORT_CLOSED' });
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.stderrTail = details.stderrTail ?? '';
  }
}
TransportClosedError.prototype.name = 'TransportClosedError';

/**
 * pi died on its own and the session restarted it (`restart`): what was in flight then fails with
 * this error (code `PI_RESTARTED`), and so does a command sent while it restarts. pidriver never
 * sends a prompt again by itself (a tool could run twice); the session goes on, so prompt again if
 * that is safe. A `TransportClosedError`, with the exit details of the process that died.
 */
export class PiRestartedError extends TransportClosedError {
  constructor(message: string, details: Partial<ExitDetails> & { cause?: unknown } = {}) {
    super(message, { ...details, code: 'PI_RESTARTED' });
  }
}
PiRestartedError.prototype.name = 'PiRestartedError';

/** A session id is not registered with the manager. */
export class SessionNotFoundError extends PiDriverError {
  readonly sessionId: string;

  constructor(sessionId: string) {
    super(`No session with id "${sessionId}"`, { code: 'PI_SESSION_NOT_FOUND' });
    this.sessionId = sessionId;
  }
}
SessionNotFoundError.prototype.name = 'SessionNotFoundError';

/** The manager is at `maxSessions`; no process was started. */
export class PiCapacityError extends PiDriverError {
  readonly maxSessions: number;

  constructor(maxSessions: number) {
    super(`Session limit reached (maxSessions = ${maxSessions})`, { code: 'PI_CAPACITY' });
    this.maxSessions = maxSessions;
  }
}
PiCapacityError.prototype.name = 'PiCapacityError';

/** An answer to an interaction request does not fit that request (or the request is not open). */
export class PiPolicyError extends PiDriverError {
  readonly requestId: string;

  constructor(requestId: string, message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause, code: 'PI_POLICY' });
    this.requestId = requestId;
  }
}
PiPolicyError.prototype.name = 'PiPolicyError';

/**
 * The pi dialect in use does not support this operation (a command only another dialect has,
 * a thinking level it lacks): rejected locally instead of sent, so nothing waits for an answer
 * that can't come. `session.capabilities` says what is supported.
 */
export class PiUnsupportedError extends PiDriverError {
  readonly operation: string;
  /** The dialect (and version, when known) that lacks it, e.g. `omp 18.2.3`. */
  readonly dialect: string;

  /** `hint` is appended to the message (e.g. what this dialect calls it instead). */
  constructor(operation: string, dialect: string, hint?: string) {
    super(`${operation} is not supported by ${dialect}${hint ? ` (${hint})` : ''}`, { code: 'PI_UNSUPPORTED' });
    this.operation = operation;
    this.dialect = dialect;
  }
}
PiUnsupportedError.prototype.name = 'PiUnsupportedError';

/**
 * A budget is spent: a session of a `PiSessionManager` whose `limits` were exceeded refuses new
 * prompts with this error. `breach` says which limit, its value and what was used. (A run that goes
 * past its own `RunLimits` is not an error: it ends with `reason: 'limit'`.)
 */
export class PiLimitError extends PiDriverError {
  /**
   * The limit that was exceeded: a `LimitBreach` (the shape is repeated here so that this file
   * imports nothing; `spec/limits/PiLimitError.spec.ts` keeps the two the same).
   */
  readonly breach: {
    readonly limit: 'maxTurns' | 'maxTokens' | 'maxCostUsd' | 'stallTimeoutMs' | 'toolStallTimeoutMs';
    readonly max: number;
    readonly actual: number;
    readonly message: string;
  };

  constructor(breach: PiLimitError['breach'], options?: { cause?: unknown }) {
    super(`Limit exceeded: ${breach.message}`, { cause: options?.cause, code: 'PI_LIMIT' });
    this.breach = breach;
  }
}
PiLimitError.prototype.name = 'PiLimitError';

function withStderr(message: string, stderrTail: string | undefined): string {
  const tail = stderrTail?.trim();
  return tail ? `${message}\n--- pi stderr (tail) ---\n${tail}` : message;
}
