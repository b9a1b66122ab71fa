/**
 * What each pi dialect can do on the wire (commands, run-end frames, protocol-v2 chunks), so the session
 * can pick the best run-end signal, refuse what a dialect lacks, and tell the user
 * (`session.capabilities`).
 */
/** The wire dialects pidriver speaks: pi 0.73 (`@mariozechner`), pi 1.x (`@earendil-works`), oh-my-pi. */
export const DIALECTS = ['pi-0.73', 'pi-1', 'omp'] as const;
export type Dialect = (typeof DIALECTS)[number];

/** Display names of the dialects, for messages. */
export const DIALECT_NAMES: Readonly<Record<Dialect, string>> = { 'pi-0.73': 'pi 0.73', 'pi-1': 'pi 1.x', omp: 'omp' };

/**
 * What one pi can do. Flags that changed inside a dialect's version line (omp 18.2 vs 18.3,
 * pi 0.80 vs 1.x) follow {@link Capabilities.version} when it is known, else the newest
 * behaviour.
 */
export interface Capabilities {
  readonly dialect: Dialect;
  /** The version of the binary (`package.json`, `--version`), when known. */
  readonly version: string | undefined;
  /** `steer` and `follow_up` commands. */
  readonly steer: boolean;
  readonly followUp: boolean;
  /** How tool approvals work: pidriver's extension (pi) or built in (omp `--approval-mode`). */
  readonly approvals: 'extension' | 'builtin';
  /** pi 1.x's `agent_settled` event (a real "idle" signal; pi ≥ 0.80.4). */
  readonly agentSettled: boolean;
  /** omp's `prompt_result` after every agent run (18.3.1+; 18.2 sends it only for local slash commands). */
  readonly promptResult: boolean;
  /** omp's `session_settled` (18.3.1+). */
  readonly sessionSettled: boolean;
  /** pi 1.x's `data.disposition` on `prompt`/`steer`/`follow_up` responses (≥ 0.99). */
  readonly promptDisposition: boolean;
  /** A `ready` frame at startup (omp). */
  readonly readyFrame: boolean;
  /** `negotiate_protocol` to v2: oversize frames arrive losslessly as `rpc_chunk`s (omp). */
  readonly protocolV2: boolean;
  /** Failures of unknown commands echo the command's `id` (pi ≥ 0.79.7, omp 18.3). */
  readonly unknownCommandId: boolean;
  /** A second `prompt` while a run streams is answered twice with the same id: success, then failure (omp). */
  readonly doublePromptResponse: boolean;
  /** `extension_ui_request` `cancel` frames withdrawing a dialog (omp). */
  readonly cancelFrames: boolean;
  /**
   * Subagents (omp's `task` tool) reported as `subagent_lifecycle`, `subagent_progress` and
   * `subagent_event` events (pidriver sends `set_subagent_subscription` when the session starts),
   * and `get_subagents` (omp).
   */
  readonly subagents: boolean;
  /** `get_session_stats`. */
  readonly sessionStats: boolean;
  /** `queue_update` events (omp has none: poll `get_state.queuedMessageCount`). */
  readonly queueEvents: boolean;
  /** `clear_queue` command (pi 1.x). */
  readonly clearQueue: boolean;
  /** `--exclude-tools`, `--name`, `--session-id` flags (pi 1.x). */
  readonly excludeTools: boolean;
  readonly sessionName: boolean;
  readonly sessionIdFlag: boolean;
  /** `--offline`. */
  readonly offline: boolean;
  /** Delta-only `message_update` (no resent partial message; pi ≥ 0.84). */
  readonly deltaOnlyUpdates: boolean;
  /** Thinking levels `--thinking` / `set_thinking_level` accept. */
  readonly thinkingLevels: readonly string[];
  /** What runs the binary: pi runs on Node (pi 1.x also on Bun), omp only on Bun. */
  readonly runtime: 'node' | 'bun';
  /** RPC commands this pi serves (`command(type)` refuses the ones other dialects have and this one lacks). */
  readonly commands: ReadonlySet<string>;
}

const COMMON_COMMANDS = [
  'prompt',
  'steer',
  'follow_up',
  'abort',
  'new_session',
  'get_state',
  'get_messages',
  'set_model',
  'cycle_model',
  'get_available_models',
  'set_thinking_level',
  'cycle_thinking_level',
  'set_steering_mode',
  'set_follow_up_mode',
  'compact',
  'set_auto_compaction',
  'set_auto_retry',
  'abort_retry',
  'bash',
  'abort_bash',
  'get_session_stats',
  'export_html',
  'switch_session',
  'get_last_assistant_text',
  'set_session_name',
  'extension_ui_response',
] as const;
const PI_COMMANDS = ['fork', 'clone', 'get_fork_messages', 'get_commands'] as const;
const PI1_COMMANDS = ['clear_queue', 'get_available_thinking_levels', 'get_entries', 'get_tree'] as const;
const OMP_COMMANDS = [
  'abort_and_prompt',
  'get_messages_page',
  'set_interrupt_mode',
  'branch',
  'get_branch_messages',
  'get_available_thinking_levels',
  'get_available_commands',
  'negotiate_protocol',
  'set_fast_mode',
  'set_todos',
  'set_host_tools',
  'set_host_uri_schemes',
  'host_tool_update',
  'host_tool_result',
  'host_uri_result',
  'set_subagent_subscription',
  'get_subagents',
  'get_subagent_messages',
  'handoff',
  'get_login_providers',
  'login',
] as const;
/** omp commands added in 18.3.1. */
const OMP_18_3_COMMANDS = ['open_session', 'set_event_filter', 'get_entries', 'get_tree'] as const;

/** Every command some dialect serves. A type outside this set is nobody's: it is sent as is (a newer pi may know it). */
const KNOWN_COMMANDS: ReadonlySet<string> = new Set<string>([...COMMON_COMMANDS, ...PI_COMMANDS, ...PI1_COMMANDS, ...OMP_COMMANDS, ...OMP_18_3_COMMANDS]);

/** What the other dialects call a command this one lacks, for error messages. */
const RENAMED: Readonly<Record<string, Partial<Record<Dialect, string>>>> = {
  fork: { omp: 'branch' },
  get_fork_messages: { omp: 'get_branch_messages' },
  get_commands: { omp: 'get_available_commands' },
  branch: { 'pi-0.73': 'fork', 'pi-1': 'fork' },
  get_branch_messages: { 'pi-0.73': 'get_fork_messages', 'pi-1': 'get_fork_messages' },
  get_available_commands: { 'pi-0.73': 'get_commands', 'pi-1': 'get_commands' },
};

const PI_THINKING = ['off', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const;

/**
 * The capabilities of a dialect, at a version when it is known.
 *
 * ```ts
 * capabilitiesOf('omp', '18.2.3').promptResult; // false: 18.2 ends runs with agent_end only
 * ```
 */
export function capabilitiesOf(dialect: Dialect, version?: string): Capabilities {
  const known = version !== undefined && /^\d+\.\d+/.test(version);
  const atLeast = (minimum: string): boolean => !known || versionAtLeast(version, minimum);
  const base = { dialect, version: known ? version : undefined, steer: true, followUp: true, sessionStats: true } as const;
  switch (dialect) {
    case 'pi-0.73':
      return Object.freeze({
        ...base,
        approvals: 'extension',
        agentSettled: false,
        promptResult: false,
        sessionSettled: false,
        promptDisposition: false,
        readyFrame: false,
        protocolV2: false,
        unknownCommandId: false,
        doublePromptResponse: false,
        cancelFrames: false,
        subagents: false,
        queueEvents: true,
        clearQueue: false,
        excludeTools: false,
        sessionName: false,
        sessionIdFlag: false,
        offline: true,
        deltaOnlyUpdates: false,
        thinkingLevels: PI_THINKING,
        runtime: 'node',
        commands: new Set<string>([...COMMON_COMMANDS, ...PI_COMMANDS]),
      });
    case 'pi-1':
      return Object.freeze({
        ...base,
        approvals: 'extension',
        agentSettled: atLeast('0.80.4'),
        promptResult: false,
        sessionSettled: false,
        promptDisposition: atLeast('0.99.0'),
        readyFrame: false,
        protocolV2: false,
        unknownCommandId: atLeast('0.79.7'),
        doublePromptResponse: false,
        cancelFrames: false,
        subagents: false,
        queueEvents: true,
        clearQueue: atLeast('0.84.4'),
        excludeTools: true,
        sessionName: true,
        sessionIdFlag: true,
        offline: true,
        deltaOnlyUpdates: atLeast('0.84.0'),
        thinkingLevels: [...PI_THINKING, 'max'],
        runtime: 'node',
        commands: new Set<string>([...COMMON_COMMANDS, ...PI_COMMANDS, ...PI1_COMMANDS]),
      });
    case 'omp': {
      const v18_3 = atLeast('18.3.1');
      return Object.freeze({
        ...base,
        approvals: 'builtin',
        agentSettled: false,
        promptResult: v18_3,
        sessionSettled: v18_3,
        promptDisposition: false,
        readyFrame: true,
        protocolV2: true,
        unknownCommandId: v18_3,
        doublePromptResponse: true,
        cancelFrames: true,
        subagents: true,
        queueEvents: false,
        clearQueue: false,
        excludeTools: false,
        sessionName: false,
        sessionIdFlag: false,
        offline: false,
        deltaOnlyUpdates: false,
        thinkingLevels: [...PI_THINKING, 'max'],
        runtime: 'bun',
        commands: new Set<string>([...COMMON_COMMANDS, ...OMP_COMMANDS, ...(v18_3 ? OMP_18_3_COMMANDS : [])]),
      });
    }
  }
}

/** A dialect and version for messages: `omp 18.2.3`, `pi 1.x`. */
export function describeDialect(capabilities: Pick<Capabilities, 'dialect' | 'version'>): string {
  return `${DIALECT_NAMES[capabilities.dialect]}${capabilities.version ? ` ${capabilities.version}` : ''}`;
}

/**
 * Whether `capabilities` lacks a command another dialect serves: `undefined` when it can run
 * it (or when no dialect knows the command: it is sent as is, since a newer pi may serve it),
 * else a hint (`''`, or what this dialect calls it instead).
 */
export function unsupportedCommandHint(capabilities: Capabilities, type: string): string | undefined {
  if (!KNOWN_COMMANDS.has(type) || capabilities.commands.has(type)) return undefined;
  const renamed = RENAMED[type]?.[capabilities.dialect];
  return renamed ? `it calls it "${renamed}"` : '';
}

/** True when dotted version `version` is at least `minimum` (numeric parts; pre-release tags ignored). */
export function versionAtLeast(version: string, minimum: string): boolean {
  const parse = (text: string) =>
    text
      .split(/[.+-]/)
      .slice(0, 3)
      .map((part) => Number.parseInt(part, 10) || 0);
  const a = parse(version);
  const b = parse(minimum);
  for (let index = 0; index < 3; index++) {
    const left = a[index] ?? 0;
    const right = b[index] ?? 0;
    if (left !== right) return left > right;
  }
  return true;
}
