import type { SchedulerLike } from 'rxjs';
import type { Dialect, PiConfig } from '../config/PiConfig.js';
import type { RunLimits } from '../limits/RunLimits.js';
import type { Policy } from '../policies/types.js';
import type { ReplayLimits } from '../rx/ReplayHub.js';
import type { AnyHostTool } from '../tools/hostTool.js';
import type { PiTransport } from '../transport/PiTransport.js';
import type { ApproveSetting } from './approvalExtension.js';
import type { RestartOptions } from './restartPolicy.js';

/** Options of `PiSession` (`PiClient.start()` builds them). */
export interface PiSessionOptions {
  /** Stable local key (the manager's registry key). */
  readonly sessionId: string;
  readonly transport: PiTransport;
  readonly config: PiConfig;
  /** The working directory pi runs in. */
  readonly cwd: string;
  /** Interaction policy; default {@link askHost}() (every request is left to the host). */
  readonly policy?: Policy;
  /**
   * Which tool calls need the host's approval (`PiClient`'s `approve`). pi's approval extension
   * only asks about these; omp's built-in approvals ask about every tool, so on omp the session
   * itself approves the tools not listed here, and only the listed ones reach the policy.
   */
  readonly approve?: ApproveSetting;
  /** Scheduler for timers and the activity clock (tests pass a TestScheduler). */
  readonly scheduler?: SchedulerLike;
  /** Bounds of the replay window of `events$`. Default 10,000 events / 16 MiB. */
  readonly replay?: Partial<ReplayLimits>;
  /**
   * The wire dialect, when known (`PiClient` detects it; default `config.dialect`, else pi
   * 0.73). The wire corrects it: omp's `ready` frame, pi 1.x's `agent_settled`.
   */
  readonly dialect?: Dialect;
  /** The version of the binary, when known (some capabilities depend on it). */
  readonly version?: string;
  /** Tools the agent can call that run in this process (`client.start({ tools })`). */
  readonly tools?: readonly AnyHostTool[];
  /** Limits of every run (a prompt's own `limits` win, field by field); see {@link RunLimits}. */
  readonly limits?: RunLimits;
  /**
   * The random token pidriver's pi extension was given (`PIDRIVER_NONCE`): its host calls and run
   * markers carry it. `PiClient` makes one per process; default a new random one. `false`: pi runs
   * without pidriver's extension (structured output is then refused on pi).
   */
  readonly nonce?: string | false;
  /**
   * Start pi again when it dies on its own (see `StartOptions.restart`); needs `respawn`.
   * `PiClient` checks that the session is persisted.
   */
  readonly restart?: RestartOptions | boolean;
  /** A transport for a new pi on this session's file (`PiClient` builds it from the config). */
  readonly respawn?: (sessionFile: string | undefined) => PiTransport;
}
