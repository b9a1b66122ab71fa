import type { Readable, Writable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { asyncScheduler, first, firstValueFrom, from, interval, map, Observable, race, type SchedulerLike } from 'rxjs';
import type { PiConfig } from '../config/PiConfig.js';
import { PiDriverError, PiStartError, TransportClosedError } from '../errors.js';
import { longTimer } from '../rx/longTimer.js';
import { LineSplitter } from './LineSplitter.js';
import type { CloseOptions, CloseResult, ExitInfo, PiTransport, TransportLine } from './PiTransport.js';
import { detectPi, launcherEnv, type DetectedPi } from './detectDialect.js';
import { descendantsOf, isRunning, killAll, processesWithEnv, trySignal, type ProcessIdentity } from './processTree.js';
import { writePromptFiles } from './promptFiles.js';
import { readIntoReusedBuffer } from './readIntoReusedBuffer.js';
import { secretsOf } from './redactSecrets.js';
import { resolveBinary } from './resolveBinary.js';
import { StderrTail } from './StderrTail.js';
import { newTreeId, unwatchPiGroup, watchPiGroup } from './watchdog.js';
import { writeMcpConfig } from './writeMcpConfig.js';

export interface SubprocessTransportOptions {
  /** Working directory of pi (the project the agent works in). */
  readonly cwd?: string;
  /** Called with every stderr line (secrets masked: the API key, `*_KEY`/`*_TOKEN`/… values). */
  readonly onStderr?: (line: string) => void;
  /** Parent environment the scrubbed child env is built from. Default `process.env`. */
  readonly parentEnv?: Readonly<Record<string, string | undefined>>;
  /** Scheduler for the close() escalation timers. */
  readonly scheduler?: SchedulerLike;
}

type Subprocess = ResultPromise<{ buffer: false; reject: false }>;

/** Environment variable that marks a pi process tree (see {@link processesWithEnv}). */
const TREE_MARKER_ENV = 'PIDRIVER_TREE_ID';
/** pi's stdout is read into one buffer of this size (a Linux pipe holds 64 KiB). */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * The real transport: `pi --mode rpc` spawned with execa.
 *
 * - stdout → {@link LineSplitter} → `lines$` (one subscriber; stdout stays paused without one,
 *   so nothing is lost and nothing is buffered in this process). stdout is read into one reused
 *   buffer (see `readIntoReusedBuffer.ts`), so a `ScannedLine`'s `line` can only be read
 *   while it is delivered;
 * - stdin ← `send()`, serialised, one JSON line per command;
 * - stderr → `onStderr` and a bounded tail for error messages, with the API key and the values
 *   of secret-looking variables of pi's environment masked (`***`);
 * - a spawn that fails (even synchronously: a NUL byte, `E2BIG`) rejects `start()` with
 *   `PiStartError` and leaves no file descriptor open.
 *
 * pi runs in its own process group (`detached`), so a Ctrl-C in the terminal does not kill it
 * behind the session's back (pi 0.73 dies on SIGINT); the transport owns its lifetime and kills
 * the group, plus any detached descendants, when it closes or when this process exits.
 */
export class SubprocessTransport implements PiTransport {
  readonly lines$: Observable<TransportLine>;
  readonly exited: Promise<ExitInfo>;

  readonly #config: PiConfig;
  readonly #options: SubprocessTransportOptions;
  readonly #splitter: LineSplitter<true>;
  readonly #stderr = new StderrTail();
  readonly #scheduler: SchedulerLike;
  #resolveExited!: (info: ExitInfo) => void;
  #child: Subprocess | undefined;
  #exitInfo: ExitInfo | undefined;
  #stdoutEnded = false;
  #lineSubscriber: ((line: TransportLine) => void) | undefined;
  #completeLines: (() => void) | undefined;
  #writeChain: Promise<void> = Promise.resolve();
  #closing: Promise<CloseResult> | undefined;
  #detected: DetectedPi | undefined;
  #readsIntoReusedBuffer = false;
  /** Removes the files long prompts were passed in (see `promptFiles.ts`). */
  #removePromptFiles: () => void = () => undefined;
  /** The value of {@link TREE_MARKER_ENV} in this pi's environment (and so its descendants'). */
  readonly #treeId = newTreeId();

  constructor(config: PiConfig, options: SubprocessTransportOptions = {}) {
    this.#config = config;
    this.#options = options;
    // Reused chunks whether or not the read buffer could be installed: one contract either way.
    this.#splitter = new LineSplitter(config.maxLineBytes, { scanMessageUpdates: true, reusedChunks: true });
    this.#scheduler = options.scheduler ?? asyncScheduler;
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.#resolveExited = resolve;
    });
    this.lines$ = new Observable<TransportLine>((subscriber) => {
      if (this.#lineSubscriber) {
        subscriber.error(new PiDriverError('SubprocessTransport.lines$ supports one subscriber at a time'));
        return undefined;
      }
      this.#lineSubscriber = (line) => subscriber.next(line);
      this.#completeLines = () => subscriber.complete();
      this.#attachStdout();
      return () => {
        this.#lineSubscriber = undefined;
        this.#completeLines = undefined;
        this.#detachStdout();
      };
    });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get exitCode(): number | null {
    return this.#exitInfo?.exitCode ?? null;
  }

  get stderrTail(): string {
    return this.#stderr.text;
  }

  /**
   * @internal Whether stdout is read into one reused buffer (false: this Node's socket internals
   * differ, and stdout is read through `'data'` events as usual).
   */
  get readsIntoReusedBuffer(): boolean {
    return this.#readsIntoReusedBuffer;
  }

  /** The dialect the binary was detected as (or configured with), once `start()` has run. */
  get dialect(): DetectedPi | undefined {
    return this.#detected;
  }

  async start(): Promise<void> {
    if (this.#child) throw new PiDriverError('SubprocessTransport.start() was already called');
    const parentEnv = this.#options.parentEnv ?? process.env;
    const workDir = this.#options.cwd ?? this.#config.workspace ?? process.cwd();
    this.#stderr.redacting(secretsOf(this.#config, parentEnv));
    const { file, args, env, shown } = await this.#command(parentEnv, workDir).catch((error: unknown) => {
      throw error instanceof PiDriverError ? error : this.#spawnError('pi', error);
    });
    // With a launcher the working directory is on the other side (the launcher cds there).
    const cwd = this.#config.launcher ? process.cwd() : workDir;
    // Marks everything pi starts, detached bash commands included, so close() can still find
    // them after pi died on its own and they were reparented to init.
    if (!this.#config.launcher) env[TREE_MARKER_ENV] = this.#treeId;

    let child: Subprocess;
    try {
      child = execa(file, args, {
        cwd,
        env,
        extendEnv: false,
        stdin: 'pipe',
        stdout: 'pipe',
        stderr: 'pipe',
        buffer: false,
        reject: false,
        detached: true,
        cleanup: false, // we own the lifetime: see registerForParentExit()
        stripFinalNewline: false,
        forceKillAfterDelay: false,
      }) as Subprocess;
    } catch (error) {
      this.#onExit(null, null);
      throw this.#spawnError(shown, error);
    }
    this.#child = child;
    // The result promise is only used to keep execa's own errors from going unhandled; exit
    // details come from the 'exit' event, which fires even if stdout is never drained.
    child.catch(() => undefined);
    child.stdin.on('error', () => undefined); // EPIPE after death is reported by send()

    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (error) => reject(error));
      // A spawn that threw synchronously (a NUL byte, E2BIG) emits neither: execa only settles
      // its result, with the error. After a spawn, this settles at exit, when it changes nothing.
      void child.then((result) => reject(result instanceof Error ? result : new Error('the process ended before it spawned')), reject);
    });
    child.once('exit', (code, signal) => this.#onExit(code, signal));
    child.stderr.on('data', (chunk: Buffer) => this.#stderr.push(chunk, this.#options.onStderr));
    // Before anything is read (nothing is until this tick ends); then pause() stops the reads.
    this.#readsIntoReusedBuffer = readIntoReusedBuffer(child.stdout, Buffer.allocUnsafeSlow(READ_BUFFER_BYTES), this.#onRead);
    child.stdout.pause();

    try {
      await spawned;
    } catch (error) {
      // The pipes of a process that never ran: paused, their EOF would never be read, and each
      // would keep a socket open for good.
      for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
      this.#onExit(null, null);
      throw this.#spawnError(shown, error);
    }
    registerForParentExit(this);
    if (this.#lineSubscriber) this.#attachStdout();
  }

  /**
   * What to spawn. Locally: the resolved binary (a Node script under this `node`, a Bun script
   * under `runtime` or the `bun` found beside it / on PATH) with the dialect's argv and the
   * scrubbed env. With a launcher: the launcher with {@link PiConfig.toLaunchArgv}, under the
   * parent's env (ssh, docker and kubectl need theirs; pi's env is rebuilt on the other side).
   */
  async #command(
    parentEnv: Readonly<Record<string, string | undefined>>,
    workDir: string,
  ): Promise<{ file: string; args: string[]; env: Record<string, string>; shown: string }> {
    const config = this.#config;
    this.#detected = await detectPi(config);
    const { dialect } = this.#detected;
    if (config.launcher) {
      const [file = '', ...args] = config.toLaunchArgv({ dialect, cwd: workDir });
      return { file, args, env: launcherEnv(parentEnv), shown: [file, ...args].join(' ') };
    }
    const env = config.toEnv(parentEnv);
    const resolved = await resolveBinary(config.binary, { cwd: process.cwd(), pathEnv: env['PATH'], runtime: config.runtime });
    const prompts = await writePromptFiles(config);
    this.#removePromptFiles = prompts.remove;
    const [, ...args] = prompts.config.toArgv({ dialect, version: this.#detected.version });
    await writeMcpConfig(config, { agentDir: env['PI_CODING_AGENT_DIR'], dialect });
    return { file: resolved.file, args: [...resolved.prefixArgs, ...args], env, shown: resolved.resolvedPath };
  }

  /**
   * The `PiStartError` of a spawn that failed: what could not be spawned, why (the OS's reason,
   * not execa's whole command line, which can be huge), secrets masked, in the message and in
   * `cause`.
   */
  #spawnError(shown: string, error: unknown): PiStartError {
    const inner = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const code = (inner as { code?: unknown } | undefined)?.code;
    const reason = inner instanceof Error ? inner.message : String(inner);
    const hint = code === 'E2BIG' ? ' (an argument or the environment is too long for the OS: keep each extraArgs and extraEnv value under 128 KiB)' : '';
    const message = this.#stderr.redact(`${clip(reason)}${hint}`);
    const cause = Object.assign(new Error(message), typeof code === 'string' ? { code } : {});
    return new PiStartError(`Could not spawn ${this.#stderr.redact(clip(shown))}: ${message}`, { cause, stderrTail: this.#stderr.text });
  }

  send(command: object): Promise<void> {
    const line = `${JSON.stringify(command)}\n`;
    const write = this.#writeChain.then(() => this.#write(line));
    this.#writeChain = write.catch(() => undefined);
    return write;
  }

  close(options: CloseOptions = {}): Promise<CloseResult> {
    this.#closing ??= this.#close(options.timeoutMs ?? this.#config.terminateTimeoutMs);
    return this.#closing;
  }

  /** Kills the whole tree at once, synchronously (used when the parent process exits). */
  killNow(): void {
    this.#removePromptFiles();
    const pid = this.#child?.pid;
    if (pid === undefined || this.#exitInfo) return;
    const descendants = descendantsOf(pid);
    trySignal(-pid, 'SIGKILL');
    killAll(descendants);
  }

  #write(line: string): Promise<void> {
    const stdin = this.#child?.stdin as Writable | null | undefined;
    if (!this.#child || !stdin) return Promise.reject(this.#closedError('send() before start()'));
    if (this.#exitInfo || stdin.destroyed || stdin.writableEnded) {
      return Promise.reject(this.#closedError('send() after the pi process exited'));
    }
    return new Promise<void>((resolve, reject) => {
      stdin.write(line, (error) => {
        if (error) reject(this.#closedError(`write to pi failed (${error.message})`, error));
        else resolve();
      });
    });
  }

  #closedError(message: string, cause?: unknown): TransportClosedError {
    return new TransportClosedError(message, {
      exitCode: this.#exitInfo?.exitCode ?? null,
      signal: this.#exitInfo?.signal ?? null,
      stderrTail: this.#stderr.text,
      cause,
    });
  }

  #attachStdout(): void {
    const stdout = this.#child?.stdout as Readable | null | undefined;
    if (!stdout) return;
    if (this.#stdoutEnded) {
      this.#completeLines?.();
      return;
    }
    if (stdout.listenerCount('data') === 0) {
      stdout.on('data', this.#onData);
      stdout.once('end', this.#onEnd);
      stdout.once('close', this.#onEnd);
    }
    stdout.resume();
  }

  #detachStdout(): void {
    const stdout = this.#child?.stdout as Readable | null | undefined;
    if (!stdout) return;
    stdout.off('data', this.#onData);
    stdout.off('end', this.#onEnd);
    stdout.off('close', this.#onEnd);
    if (!this.#stdoutEnded) stdout.pause();
  }

  readonly #emitLine = (line: TransportLine): void => this.#lineSubscriber?.(line);

  /** A read into the reused buffer: the splitter copies what it keeps before this returns. */
  readonly #onRead = (bytes: number, buffer: Buffer): void => {
    this.#splitter.push(buffer.subarray(0, bytes), this.#emitLine);
  };

  /** A chunk through `'data'` (when the reused buffer could not be installed). */
  readonly #onData = (chunk: Buffer): void => {
    this.#splitter.push(chunk, this.#emitLine);
  };

  readonly #onEnd = (): void => {
    if (this.#stdoutEnded) return;
    this.#stdoutEnded = true;
    this.#splitter.end(this.#emitLine);
    this.#completeLines?.();
  };

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#exitInfo) return;
    this.#exitInfo = { exitCode: code, signal, stderrTail: this.#stderr.text };
    unregisterForParentExit(this);
    this.#removePromptFiles();
    // Let stderr drain first so the tail holds pi's last words.
    const stderr = this.#child?.stderr as Readable | null | undefined;
    if (stderr && !stderr.readableEnded && !stderr.destroyed) {
      const settle = () => this.#resolveExited({ exitCode: code, signal, stderrTail: this.#stderr.text });
      stderr.once('close', settle);
      stderr.once('end', settle);
      // Never wait for an inherited stderr held open by a grandchild.
      setImmediate(() => setImmediate(settle));
    } else {
      this.#resolveExited(this.#exitInfo);
    }
  }

  async #close(timeoutMs: number): Promise<CloseResult> {
    const child = this.#child;
    if (!child || child.pid === undefined) {
      return { exitCode: null, signal: null, stderrTail: this.#stderr.text, escalation: 'not-started' };
    }
    const pid = child.pid;
    if (this.#exitInfo) {
      // pi died on its own (killed, crashed): descendantsOf() can't see its orphans any more.
      const orphans = processesWithEnv(TREE_MARKER_ENV, this.#treeId);
      killAll(orphans);
      await this.#goneWithin(orphans, timeoutMs);
      return { ...(await this.exited), escalation: 'already-exited' };
    }
    const descendants: ProcessIdentity[] = descendantsOf(pid);

    let escalation: CloseResult['escalation'] = 'eof';
    (child.stdin as Writable | null)?.end();
    if (!(await this.#exitWithin(timeoutMs))) {
      escalation = 'sigterm';
      trySignal(-pid, 'SIGTERM');
      if (!(await this.#exitWithin(timeoutMs))) {
        escalation = 'sigkill';
        trySignal(-pid, 'SIGKILL');
        trySignal(pid, 'SIGKILL');
      }
    }
    const info = await this.exited;
    // pi's bash tool runs commands in their own process groups; reap any left behind, and
    // anything still in pi's group, and anything started after the snapshot that carries this
    // tree's marker (it went to init when pi exited, so descendantsOf() can't see it).
    trySignal(-pid, 'SIGKILL');
    const leftovers = [...descendants, ...descendantsOf(pid), ...processesWithEnv(TREE_MARKER_ENV, this.#treeId)];
    killAll(leftovers);
    // SIGKILL is asynchronous: wait (bounded) until they are really gone, so "close() resolved"
    // means "nothing of this session runs any more".
    await this.#goneWithin(leftovers, timeoutMs);
    return { ...info, escalation };
  }

  #goneWithin(identities: readonly ProcessIdentity[], timeoutMs: number): Promise<unknown> {
    if (!identities.some(isRunning)) return Promise.resolve();
    return firstValueFrom(race(interval(10, this.#scheduler).pipe(first(() => !identities.some(isRunning))), longTimer(timeoutMs, this.#scheduler)));
  }

  #exitWithin(timeoutMs: number): Promise<boolean> {
    return firstValueFrom(race(from(this.exited).pipe(map(() => true)), longTimer(timeoutMs, this.#scheduler).pipe(map(() => false))));
  }
}

/** A text cut to a length fit for an error message. */
function clip(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// No pi outlives this process: kill every live transport's tree synchronously on exit, and let
// the watchdog (watchdog.ts) reap them if this process dies without running `exit` hooks.

const liveTransports = new Set<SubprocessTransport>();
let exitHookInstalled = false;

function registerForParentExit(transport: SubprocessTransport): void {
  liveTransports.add(transport);
  if (transport.pid !== undefined) watchPiGroup(transport.pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const live of liveTransports) live.killNow();
    });
  }
}

function unregisterForParentExit(transport: SubprocessTransport): void {
  liveTransports.delete(transport);
  if (transport.pid !== undefined) unwatchPiGroup(transport.pid);
}
