/**
 * What each pi dialect can do on the wire (protocol reference §0.1, §9).
 */
import type { Dialect } from '../config/PiConfig.js';

export interface Capabilities {
  readonly dialect: Dialect;
  /** `steer` and `follow_up` commands. */
  readonly steer: boolean;
  readonly followUp: boolean;
  /** How tool approvals work: pidriver's extension (pi) or built in (omp). */
  readonly approvals: 'extension' | 'builtin';
  /** pi 1.x's `agent_settled` event (a real "idle" signal). */
  readonly agentSettled: boolean;
  /** omp's `prompt_result` / `session_settled` frames (18.3+). */
  readonly promptResult: boolean;
  /** A `ready` frame at startup (omp). */
  readonly readyFrame: boolean;
  /** `get_session_stats`. */
  readonly sessionStats: boolean;
  /** `queue_update` events. */
  readonly queueEvents: boolean;
  /** `clear_queue` command. */
  readonly clearQueue: boolean;
  /** `--exclude-tools`, `--name`, `--session-id` flags. */
  readonly excludeTools: boolean;
  readonly sessionName: boolean;
  readonly sessionIdFlag: boolean;
  /** `--offline`. */
  readonly offline: boolean;
  /** Delta-only `message_update` (no resent partial message). */
  readonly deltaOnlyUpdates: boolean;
}

const BASE = {
  steer: true,
  followUp: true,
  sessionStats: true,
} as const;

const CAPABILITIES: Record<Dialect, Capabilities> = {
  'pi-0.73': {
    ...BASE,
    dialect: 'pi-0.73',
    approvals: 'extension',
    agentSettled: false,
    promptResult: false,
    readyFrame: false,
    queueEvents: true,
    clearQueue: false,
    excludeTools: false,
    sessionName: false,
    sessionIdFlag: false,
    offline: true,
    deltaOnlyUpdates: false,
  },
  'pi-1': {
    ...BASE,
    dialect: 'pi-1',
    approvals: 'extension',
    agentSettled: true,
    promptResult: false,
    readyFrame: false,
    queueEvents: true,
    clearQueue: true,
    excludeTools: true,
    sessionName: true,
    sessionIdFlag: true,
    offline: true,
    deltaOnlyUpdates: true,
  },
  omp: {
    ...BASE,
    dialect: 'omp',
    approvals: 'builtin',
    agentSettled: false,
    promptResult: true,
    readyFrame: true,
    queueEvents: false,
    clearQueue: false,
    excludeTools: false,
    sessionName: false,
    sessionIdFlag: false,
    offline: false,
    deltaOnlyUpdates: false,
  },
};

/** The capabilities of a dialect. */
export function capabilitiesOf(dialect: Dialect): Capabilities {
  return CAPABILITIES[dialect];
}
