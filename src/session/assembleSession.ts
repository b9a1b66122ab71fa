import { randomBytes } from 'node:crypto';
import { asyncScheduler, Subscription } from 'rxjs';
import { askHost } from '../policies/askHost.js';
import { EventNormalizer } from '../protocol/EventNormalizer.js';
import type { PiStateData } from '../protocol/frames.js';
import type { ReplayLimits } from '../rx/ReplayHub.js';
import type { UsageTotals } from '../usage/UsageTotals.js';
import { CommandChannel } from './CommandChannel.js';
import { FrameRouter } from './FrameRouter.js';
import { HostCalls } from './HostCalls.js';
import { validateRunLimits } from '../limits/RunLimits.js';
import { InteractionDesk } from './InteractionDesk.js';
import type { PiSession } from './PiSession.js';
import type { PiSessionOptions } from './PiSessionOptions.js';
import { RunTracker } from './RunTracker.js';
import { SessionBranches } from './SessionBranches.js';
import { SessionEvents } from './SessionEvents.js';
import { SessionLifecycle } from './SessionLifecycle.js';
import { initialSessionState, SessionStore } from './SessionStore.js';
import { WireDialect } from './WireDialect.js';
import { resolveRestart } from './restartPolicy.js';
import { PiConfigError } from '../errors.js';

const DEFAULT_REPLAY: ReplayLimits = { maxEvents: 10_000, maxBytes: 16 * 1024 * 1024 };

/** What the facade gives its parts. @internal */
export interface SessionHooks {
  /** The session, as policies' host callbacks and host tools see it. */
  readonly session: PiSession;
  /** Writes a command to pi (and marks activity). */
  readonly write: (command: object) => Promise<void>;
  /** Marks activity (a line in). */
  readonly touch: () => void;
  /** pi's `get_state` answer. */
  readonly applyState: (state: PiStateData) => void;
  /** pi's session file, as pi last said. */
  readonly sessionFile: () => string | undefined;
  /** What pidriver's `agent_start` says besides its type. */
  readonly startFields: () => { readonly cwd: string; readonly piSessionId?: string; readonly model?: string };
  /** Aborts pi's run (the session's `abort()`: open requests are cancelled first). */
  readonly abort: () => Promise<void>;
  /** An assistant message's usage. */
  readonly onUsage: (totals: UsageTotals) => void;
  /** The session ended. */
  readonly onTerminated: () => void;
}

/** The parts of a session, wired. @internal */
export interface SessionAssembly {
  readonly events: SessionEvents;
  readonly store: SessionStore;
  readonly channel: CommandChannel;
  readonly dialect: WireDialect;
  readonly desk: InteractionDesk;
  readonly runs: RunTracker;
  readonly lifecycle: SessionLifecycle;
  readonly hostCalls: HostCalls;
  readonly branches: SessionBranches;
}

/**
 * Builds and wires the parts of a session (see `PiSession`): who tells whom what. Lines go
 * transport → {@link FrameRouter} → {@link RunTracker} / {@link InteractionDesk} /
 * {@link WireDialect} → {@link SessionEvents}; state goes to {@link SessionStore}; commands go out
 * through {@link CommandChannel}; {@link SessionLifecycle} starts and ends it all.
 *
 * @internal
 */
export function assembleSession(options: PiSessionOptions, hooks: SessionHooks): SessionAssembly {
  const { sessionId, cwd, config, transport } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const normalizer = new EventNormalizer();
  // Built below, used by callbacks of parts built before them.
  const late: { runs?: RunTracker; lifecycle?: SessionLifecycle } = {};
  const events = new SessionEvents(sessionId, { ...DEFAULT_REPLAY, ...options.replay });
  const store = new SessionStore(initialSessionState(sessionId, cwd), () => events.seq);
  const dialect = new WireDialect({
    dialect: options.dialect ?? config.dialect ?? 'pi-0.73',
    version: options.version,
    scheduler,
    startTimeoutMs: config.startTimeoutMs,
    stderrTail: () => (late.lifecycle?.transport ?? transport).stderrTail,
  });
  const channel = new CommandChannel({
    write: (command) => {
      late.runs?.onWrite(command);
      return hooks.write(command);
    },
    timeoutMs: config.requestTimeoutMs,
    scheduler,
  });
  const hostCalls = new HostCalls({
    tools: options.tools ?? [],
    nonce: options.nonce === false ? undefined : (options.nonce ?? randomBytes(16).toString('hex')),
    session: hooks.session,
    isOmp: () => dialect.capabilities.dialect === 'omp',
    openTools: () => normalizer.openTools,
    request$: (command) => channel.request$(command),
    write: hooks.write,
    onError: (code, message) => events.emit({ type: 'error', code, fatal: false, message, raw: undefined }, message.length),
  });
  const desk = new InteractionDesk({
    sessionId,
    policy: options.policy ?? askHost(),
    defaultPolicy: options.policy === undefined,
    scheduler,
    session: hooks.session,
    events,
    write: hooks.write,
    othersWatching: () => events.observed || (late.runs?.watched ?? false),
    onPendingCount: (count) => store.patch({ pendingRequests: count }),
  });
  const runs = (late.runs = new RunTracker({
    channel,
    events,
    store,
    normalizer,
    dialect,
    startFields: hooks.startFields,
    onPiState: hooks.applyState,
    abort: hooks.abort,
    closedError: () => late.lifecycle?.closedError(),
    hostCalls,
    limits: options.limits === undefined ? undefined : validateRunLimits(options.limits, 'limits'),
    scheduler,
  }));
  const router = new FrameRouter({
    config,
    approve: options.approve ?? 'all',
    events,
    channel,
    runs,
    desk,
    dialect,
    normalizer,
    hostCalls,
    write: hooks.write,
    onUsage: hooks.onUsage,
  });
  const restart = resolveRestart(options.restart);
  if (restart && !options.respawn) throw new PiConfigError('restart needs respawn: a way to start pi again', { field: 'respawn' });
  const lifecycle = (late.lifecycle = new SessionLifecycle({
    transport,
    respawn: restart && options.respawn ? { policy: restart, spawn: options.respawn } : undefined,
    hostCalls,
    sessionFile: hooks.sessionFile,
    config,
    scheduler,
    events,
    store,
    channel,
    dialect,
    desk,
    runs,
    router,
    touch: hooks.touch,
    applyState: hooks.applyState,
    subscriptions: new Subscription(),
    onTerminated: hooks.onTerminated,
  }));
  const branches = new SessionBranches({
    config,
    channel,
    dialect,
    events,
    store,
    applyState: hooks.applyState,
    sessionFile: hooks.sessionFile,
    hold: (change) => runs.hold(change),
    closedError: () => lifecycle.closedError(),
  });
  return { events, store, channel, dialect, desk, runs, lifecycle, hostCalls, branches };
}
