import { randomBytes, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { SchedulerLike } from 'rxjs';
import { PiConfig, type PiConfigInput } from '../config/PiConfig.js';
import { PiConfigError } from '../errors.js';
import type { Policy } from '../policies/types.js';
import type { TransportFactory } from '../transport/PiTransport.js';
import { detectPi } from '../transport/detectDialect.js';
import { SubprocessTransport } from '../transport/SubprocessTransport.js';
import { DEFAULT_APPROVE, hasExtension, withApprovals, type ApproveSetting } from './approvalExtension.js';
import { sessionFileOf } from './findSessionFile.js';
import { toolSpec } from './HostCalls.js';
import type { AnyHostTool } from '../tools/hostTool.js';
import { validateRunLimits, type RunLimits } from '../limits/RunLimits.js';
import { PiSession } from './PiSession.js';
import { resolveRestart, type RestartOptions } from './restartPolicy.js';
import type { ReplayLimits } from '../rx/ReplayHub.js';

export interface PiClientOptions {
  /** Defaults for every session this client starts. */
  readonly config?: PiConfig | PiConfigInput;
  /** Builds the transport of each session; the default spawns pi with execa. */
  readonly transportFactory?: TransportFactory;
  /** Default interaction policy; without one, every request is left to the host (`askHost()`). */
  readonly policy?: Policy;
  /**
   * Which tool calls need the host's approval (a `permission` request before the tool runs):
   * `'all'`, `'none'`, or tool names. Default `['bash', 'edit', 'write']`: what can write or
   * execute. pi has no built-in approvals, so pidriver loads its own small pi extension for this.
   */
  readonly approve?: ApproveSetting;
  /** Host tools every session gets (a session's own `tools` replace them); see {@link hostTool}. */
  readonly tools?: readonly AnyHostTool[];
  /** Limits of every run of every session (a session's `limits` replace them); see {@link RunLimits}. */
  readonly limits?: RunLimits;
  /** Restart of every session whose pi dies on its own (a session's `restart` replaces it); see {@link StartOptions.restart}. */
  readonly restart?: RestartOptions | boolean;
  /** Called with every stderr line of every session. */
  readonly onStderr?: (line: string, sessionId: string) => void;
  /** Scheduler for session timers (tests). */
  readonly scheduler?: SchedulerLike;
}

export interface StartOptions {
  /** The first prompt. Sent once pi is ready unless `sendInitial` is false. */
  readonly task?: string;
  /** Project directory; overrides `config.workspace`. */
  readonly cwd?: string;
  /** Per-session config (replaces the client's). */
  readonly config?: PiConfig | PiConfigInput;
  /** Per-session policy (replaces the client's). */
  readonly policy?: Policy;
  /** Per-session approval setting (replaces the client's); see {@link PiClientOptions.approve}. */
  readonly approve?: ApproveSetting;
  /**
   * Tools the agent can call that run in this process, made with {@link hostTool} (replaces the
   * client's `tools`). The model sees each one's description and JSON Schema; `approve` and the
   * policy apply to them by name like to built-in tools.
   */
  readonly tools?: readonly AnyHostTool[];
  /**
   * Limits of every run of this session (replaces the client's; a prompt's own `limits` win field
   * by field): past one, pidriver aborts the run and it ends with `reason: 'limit'`.
   */
  readonly limits?: RunLimits;
  /**
   * Start pi again when it dies on its own (a crash, an OOM kill; not `close()`): on the same pi
   * session file, so the conversation goes on with its history, and the same `PiSession` lives
   * on. `events$` emits `session_restarted` instead of erroring and `state$` goes `restarting` →
   * `idle`; the prompt in flight rejects with `PiRestartedError` (pidriver never sends a prompt
   * twice: a tool could run twice), open requests are withdrawn, queued prompts wait. After
   * `maxRestarts` restarts within `windowMs` the next death ends the session as without it.
   * `true` is `{ maxRestarts: 3, backoffMs: 1000, windowMs: 60000 }`. Needs a persisted session
   * (`config.session: true`, `resume`, or a session path): an in-memory one has nothing to come
   * back to, so it is a `PiConfigError`.
   */
  readonly restart?: RestartOptions | boolean;
  /** Give the model an `ask_user` tool that asks the host a question (a `question` request). Default false. */
  readonly askTool?: boolean;
  /**
   * A previous pi session to continue: a session file path, or pi's session id (looked up
   * under the config's `sessionDir`, else `<agentDir>/sessions`). `'latest'` → `--continue`.
   */
  readonly resume?: string;
  /** Stable local key; a random UUID when omitted. */
  readonly sessionId?: string;
  /** False: start the session without sending `task` yet. Default true. */
  readonly sendInitial?: boolean;
  /** Aborts the start (the process is killed). */
  readonly signal?: AbortSignal;
  /** Bounds of the replay window of `events$`. */
  readonly replay?: Partial<ReplayLimits>;
}

/**
 * Starts pi sessions with shared defaults.
 *
 * ```ts
 * const client = new PiClient({ config: { provider: 'anthropic', model: 'claude-sonnet-4-5', apiKey } });
 * await using session = await client.start({ task: 'Summarize this project', cwd: '/srv/acme' });
 * session.events$.subscribe({ next: (e) => e.type === 'message_delta' && process.stdout.write(e.text), error: console.error });
 * ```
 */
export class PiClient {
  readonly config: PiConfig;
  readonly #options: PiClientOptions;

  constructor(options: PiClientOptions = {}) {
    this.#options = options;
    this.config = PiConfig.parse(options.config ?? {});
  }

  /**
   * Spawns pi, waits until it is ready, and (unless `sendInitial` is false) sends `task` as the
   * first prompt. Its result is `session.initialRun`. The signature is what
   * `PiSessionManager({ factory })` expects.
   *
   * @throws {PiConfigError} bad config or cwd; {@link PiNotFoundError} no pi binary;
   *   {@link PiStartError} pi exited or did not answer before it was ready.
   */
  async start(options: StartOptions = {}): Promise<PiSession> {
    let config = options.config ? PiConfig.parse(options.config) : this.config;
    const cwd = await resolveCwd(options.cwd ?? config.workspace ?? process.cwd(), config.launcher !== undefined);
    config = await applyResume(config, options.resume);
    // Which pi this is decides the argv, the approvals and the run-end signal. A custom transport
    // (a fake, a replay) is not asked: the session learns the dialect from the wire instead.
    const detected = this.#options.transportFactory && !config.dialect ? undefined : await detectPi(config);
    if (detected && !config.dialect) config = config.with({ dialect: detected.dialect });
    const approve = options.approve ?? this.#options.approve ?? DEFAULT_APPROVE;
    const tools = checkHostTools(options.tools ?? this.#options.tools ?? []);
    const limits = options.limits ?? this.#options.limits;
    if (limits !== undefined) validateRunLimits(limits, 'limits');
    const restart = options.restart ?? this.#options.restart;
    const restartPolicy = resolveRestart(restart);
    if (restartPolicy && !isPersisted(config)) {
      throw new PiConfigError('restart needs a persisted session: set config.session to true (or resume one); an in-memory session has nothing to restart on', {
        field: 'restart',
      });
    }
    const nonce = randomBytes(16).toString('hex');
    config = withApprovals(config, approve, { askTool: options.askTool ?? false, tools: tools.map(toolSpec), nonce });
    if (config.dialect) config.toArgv(); // a field this dialect has no flag for fails here, before anything is spawned
    const sessionId = options.sessionId ?? randomUUID();
    const onStderr = this.#options.onStderr;
    const transportFactory: TransportFactory =
      this.#options.transportFactory ??
      ((transportConfig, transportOptions) =>
        new SubprocessTransport(transportConfig, {
          cwd: transportOptions.cwd,
          ...(transportOptions.onStderr ? { onStderr: transportOptions.onStderr } : {}),
        }));
    const transportOptions = { cwd, ...(onStderr ? { onStderr: (line: string) => onStderr(line, sessionId) } : {}) };
    const transport = transportFactory(config, transportOptions);
    // A restart resumes the session's file, whatever the first process was told (new, continue, an id).
    const respawnTransport = (sessionFile: string | undefined) =>
      transportFactory(
        sessionFile === undefined ? config : config.with({ sessionPath: sessionFile, continueSession: false, sessionId: undefined }),
        transportOptions,
      );
    const policy = options.policy ?? this.#options.policy;
    const dialect = detected ?? transport.dialect;
    const session = new PiSession({
      sessionId,
      transport,
      config,
      cwd,
      ...(policy ? { policy } : {}),
      approve,
      tools,
      nonce: hasExtension(config, nonce) ? nonce : false,
      ...(limits ? { limits } : {}),
      ...(restartPolicy ? { restart: restartPolicy, respawn: respawnTransport } : {}),
      ...(this.#options.scheduler ? { scheduler: this.#options.scheduler } : {}),
      ...(options.replay ? { replay: options.replay } : {}),
      ...(dialect ? { dialect: dialect.dialect, ...(dialect.version ? { version: dialect.version } : {}) } : {}),
    });
    await session.start(options.signal);
    if (options.task !== undefined && options.sendInitial !== false) session.startInitialRun(options.task);
    return session;
  }
}

/** Whether pi keeps this session in a file (what a restart resumes). */
function isPersisted(config: PiConfig): boolean {
  return config.session || config.sessionPath !== undefined || config.sessionId !== undefined || config.continueSession;
}

/** `tools` holds {@link hostTool} values (the built-in tools' allowlist is `config.tools`). */
function checkHostTools(tools: readonly AnyHostTool[]): readonly AnyHostTool[] {
  const list: unknown = tools;
  if (!Array.isArray(list)) throw new PiConfigError('tools must be an array of hostTool(…) values', { field: 'tools' });
  for (const tool of list as readonly unknown[]) {
    const candidate = tool as Partial<AnyHostTool> | null;
    if (typeof candidate !== 'object' || candidate === null || typeof candidate.execute !== 'function' || typeof candidate.jsonSchema !== 'object') {
      const hint = typeof tool === 'string' ? ` (to choose pi's built-in tools, use config.tools: ['${tool}'])` : '';
      throw new PiConfigError(`tools: ${JSON.stringify(tool) ?? String(tool)} is not a host tool; make one with hostTool(…)${hint}`, { field: 'tools' });
    }
  }
  return tools;
}

/** The working directory: a local directory, or with a launcher an absolute path on the other side. */
async function resolveCwd(cwd: string, remote: boolean): Promise<string> {
  if (cwd.includes('\0')) throw new PiConfigError('cwd must not contain a NUL byte', { field: 'cwd' });
  if (remote) {
    if (!isAbsolute(cwd)) throw new PiConfigError(`cwd must be an absolute path on the launcher's side: ${cwd}`, { field: 'cwd' });
    return cwd;
  }
  const absolute = isAbsolute(cwd) ? cwd : resolve(cwd);
  const info = await stat(absolute).catch(() => undefined);
  if (!info?.isDirectory()) throw new PiConfigError(`cwd is not a directory: ${absolute}`, { field: 'cwd' });
  return absolute;
}

async function applyResume(config: PiConfig, resume: string | undefined): Promise<PiConfig> {
  if (resume === undefined) return config;
  // An empty id is a prefix of every session id: it would resume whichever session is there.
  if (resume.trim() === '') throw new PiConfigError("resume must not be empty: give a session id, a session file path, or 'latest'", { field: 'resume' });
  if (resume === 'latest') return config.with({ continueSession: true });
  return config.with({ sessionPath: await sessionFileOf(config, resume, 'resume') });
}
