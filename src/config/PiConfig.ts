import { basename, isAbsolute } from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';
import { PiConfigError } from '../errors.js';
import { DIALECT_NAMES, DIALECTS, versionAtLeast, type Dialect } from '../protocol/dialects.js';
import { McpServersSchema, type McpServers } from './McpServers.js';
import { providerApiKeyEnv } from './providerEnv.js';

/** Thinking levels pi accepts (`max` is pi 1.x / omp). */
export const THINKING_LEVELS = ['off', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
export type ThinkingLevel = (typeof THINKING_LEVELS)[number];

// The dialects are the protocol's (`src/protocol/dialects.ts`); re-exported here, where the
// config's `dialect` field takes them.
export { DIALECTS };
export type { Dialect };

/**
 * How a launcher hands pi's command line to the other side:
 * - `'shell'`: it joins its arguments into one command line that a shell over there parses
 *   again (`ssh`, `autossh`, `sshpass … ssh`, `gcloud compute ssh … --`), so pidriver
 *   shell-quotes every argument;
 * - `'exec'`: it runs the command as the argv it was given, nothing re-parsed (`docker exec`,
 *   `podman exec`, `nerdctl exec`, `kubectl exec`), so the arguments go as they are.
 */
export const LAUNCHER_ARGV_MODES = ['shell', 'exec'] as const;
export type LauncherArgvMode = (typeof LAUNCHER_ARGV_MODES)[number];

/** A launcher with its argv mode said explicitly (see {@link PiConfigSchema}'s `launcher`). */
export interface LauncherSpec {
  /** The argv prefix, e.g. `['autossh', '-M', '0', 'host']`. */
  readonly command: readonly string[];
  /** How it passes the remote command on: see {@link LauncherArgvMode}. */
  readonly argv: LauncherArgvMode;
}

/** Variables copied from the parent environment when `inheritEnv` is false. */
export const DEFAULT_ENV_PASSTHROUGH = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TZ'] as const;

const nonEmpty = z.string().min(1, 'must not be empty');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const timeoutMs = z.number().int('must be an integer').positive('must be a positive number of milliseconds');
const absolutePath = nonEmpty.refine(isAbsolute, 'must be an absolute path');
const launcherCommand = z.array(nonEmpty).min(1, 'must name a command');

/** The validated input of {@link PiConfig.parse}. Unknown fields are rejected. */
export const PiConfigSchema = z
  .strictObject({
    /** `'pi'`, `'omp'`, or an absolute path to a pi-compatible executable. */
    binary: z
      .string()
      .refine((value) => value === 'pi' || value === 'omp' || isAbsolute(value), {
        message: "must be 'pi', 'omp' or an absolute path",
      })
      .default('pi'),
    /** Project directory: the process cwd (a `cwd` passed to `start()` wins). */
    workspace: absolutePath.optional(),
    provider: nonEmpty.optional(),
    model: nonEmpty.optional(),
    thinking: z.enum(THINKING_LEVELS).optional(),
    /** Secret; injected into the child's environment (never argv) under {@link PiConfig.apiKeyEnvName}. */
    apiKey: nonEmpty.optional(),
    /** The env var the key goes under; without `apiKey`, the parent variable of that name is passed through. */
    apiKeyEnv: envName.optional(),
    tools: z.array(nonEmpty).optional(),
    excludeTools: z.array(nonEmpty).optional(),
    noTools: z.boolean().default(false),
    noBuiltinTools: z.boolean().default(false),
    /** false → `--no-session` (in-memory), unless a session path / id / continue is given. */
    session: z.boolean().default(false),
    sessionId: nonEmpty.optional(),
    sessionPath: nonEmpty.optional(),
    sessionName: nonEmpty.optional(),
    continueSession: z.boolean().default(false),
    systemPrompt: z.string().optional(),
    appendSystemPrompt: z.union([z.string(), z.array(z.string())]).optional(),
    /** Private `PI_CODING_AGENT_DIR`. Note: it does not isolate `HOME` (omp writes logs under `$HOME/.omp`). */
    agentDir: absolutePath.optional(),
    sessionDir: absolutePath.optional(),
    noExtensions: z.boolean().default(true),
    noSkills: z.boolean().default(true),
    noContextFiles: z.boolean().default(true),
    noPromptTemplates: z.boolean().default(true),
    noThemes: z.boolean().default(true),
    /** `--offline` and `PI_OFFLINE=1`. */
    offline: z.boolean().default(false),
    /** `PI_SKIP_VERSION_CHECK=1`. */
    skipVersionCheck: z.boolean().default(true),
    /** Extensions to load with `-e` (absolute paths; loaded even with `noExtensions`). */
    extensions: z.array(absolutePath).default([]),
    /**
     * MCP servers by name, in the shape Claude's SDK, Copilot and ACP take: stdio
     * `{ command, args?, env?, cwd? }` or HTTP `{ type: 'http', url, headers? }`. pi 1.x (≥ 0.99)
     * only: pidriver writes them to `<agentDir>/mcp.json` when it spawns pi and loads pi's built-in
     * MCP extension even with `noExtensions`; the model sees their tools as `mcp__<server>__<tool>`.
     * Needs a private `agentDir`; no launcher. See {@link McpServersSchema}.
     */
    mcpServers: McpServersSchema.optional(),
    /** Start from the whole parent environment instead of the allowlist. */
    inheritEnv: z.boolean().default(false),
    envPassthrough: z.array(envName).default([...DEFAULT_ENV_PASSTHROUGH]),
    extraArgs: z.array(z.string()).default([]),
    extraEnv: z.record(envName, z.string()).default({}),
    /** How long `close()` waits after EOF, and again after SIGTERM, before escalating. */
    terminateTimeoutMs: timeoutMs.default(5_000),
    /** How long a command waits for its response. */
    requestTimeoutMs: timeoutMs.default(30_000),
    /** How long `start()` waits for pi to answer its first `get_state`. */
    startTimeoutMs: timeoutMs.default(30_000),
    /** Longest stdout line accepted; longer lines become `error` events. */
    maxLineBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
    /** Which wire dialect the binary speaks; detected (and cached) when omitted. */
    dialect: z.enum(DIALECTS).optional(),
    /** The runtime that runs the binary's script (omp needs Bun): an absolute path or a name on PATH. */
    runtime: nonEmpty.optional(),
    /**
     * An argv prefix that runs pi elsewhere with the same protocol: `['ssh', 'host']`,
     * `['docker', 'exec', '-i', 'box']`, `['kubectl', 'exec', '-i', 'pod', '--']`. The scrubbed
     * environment then travels as explicit `env -i NAME=value …` arguments (see
     * {@link PiConfig.toLaunchArgv}); `binary` and `runtime` name programs on the other side.
     *
     * Every argument is shell-quoted for the other side's shell, except for the launchers known to
     * pass argv as is (`docker`/`podman`/`nerdctl` `exec`, `kubectl exec`). Say which kind yours
     * is with the object form: `{ command: ['sudo', 'docker', 'exec', '-i', 'box'], argv: 'exec' }`
     * (see {@link LauncherArgvMode}).
     */
    launcher: z.union([launcherCommand, z.strictObject({ command: launcherCommand, argv: z.enum(LAUNCHER_ARGV_MODES) })]).optional(),
    /**
     * Where pidriver's approval extension is (`approve`): needed when a bundler (esbuild, webpack)
     * moved pidriver's code away from its `extension/approval.js`. Copy that file from the
     * package's `dist/extension/` and point here. With a launcher, a path on the other side.
     */
    approvalExtensionPath: absolutePath.optional(),
  })
  .superRefine((config, context) => {
    // No argv string or environment variable can hold a NUL byte (Node's spawn throws).
    for (const path of nulBytePaths(config, [])) {
      context.addIssue({ code: 'custom', path, message: 'must not contain a NUL byte (no command-line argument or environment variable can hold one)' });
    }
    if (config.mcpServers && Object.keys(config.mcpServers).length > 0) {
      // pi reads MCP servers from `<agent dir>/mcp.json` only: never write into the user's own ~/.pi/agent.
      if (config.agentDir === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['mcpServers'],
          message: 'needs a private agentDir: pidriver writes the servers to <agentDir>/mcp.json, where pi reads them, and never into your own ~/.pi/agent',
        });
      }
      if (config.launcher) {
        context.addIssue({
          code: 'custom',
          path: ['mcpServers'],
          message: 'cannot be written through a launcher (the agent dir is on the other side): put an mcp.json in that agent dir and set noExtensions: false',
        });
      }
    }
    if (config.launcher && config.apiKey !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['apiKey'],
        message: 'cannot travel through a launcher without appearing in its command line: configure the key on the remote side (apiKeyEnv names that variable)',
      });
    }
  });

/** What {@link PiConfig.parse} accepts: every field optional. */
export type PiConfigInput = z.input<typeof PiConfigSchema>;
/** Every field of a parsed config, defaults applied. */
export type PiConfigData = z.output<typeof PiConfigSchema>;

const REDACTED = '***';

/**
 * How a pi process is spawned: binary, model, tools, session and isolation. Immutable (frozen);
 * derive variants with {@link PiConfig.with}.
 *
 * ```ts
 * const config = PiConfig.parse({ provider: 'anthropic', model: 'anthropic/claude-sonnet-4-5', thinking: 'low' });
 * config.toArgv(); // ['pi', '--mode', 'rpc', '--provider', 'anthropic', …]
 * ```
 *
 * The API key never appears in argv, `toString()`, `toJSON()` or `util.inspect`.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- fields come from the schema
export interface PiConfig extends Readonly<
  Omit<PiConfigData, 'extraArgs' | 'extraEnv' | 'envPassthrough' | 'extensions' | 'tools' | 'excludeTools' | 'launcher' | 'mcpServers'>
> {
  readonly mcpServers?: McpServers;
  readonly launcher?: readonly string[] | LauncherSpec;
  readonly extraArgs: readonly string[];
  readonly extraEnv: Readonly<Record<string, string>>;
  readonly envPassthrough: readonly string[];
  readonly extensions: readonly string[];
  readonly tools?: readonly string[];
  readonly excludeTools?: readonly string[];
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class PiConfig {
  /** What the user wrote (no defaults): `with()` merges into it, and argv checks what was asked for. */
  readonly #input: PiConfigInput;

  private constructor(data: PiConfigData, input: PiConfigInput) {
    this.#input = deepFreeze(structuredClone(input));
    const { apiKey, ...rest } = data;
    Object.assign(this, deepFreeze(rest));
    // Non-enumerable, so spreads, JSON and inspect never see the secret.
    Object.defineProperty(this, 'apiKey', { value: apiKey, enumerable: false });
    Object.freeze(this);
  }

  /** True when the field was given explicitly (not a default). */
  isSet(field: keyof PiConfigInput): boolean {
    return Object.prototype.hasOwnProperty.call(this.#input, field) && this.#input[field] !== undefined;
  }

  /**
   * Validates `input` and returns a frozen config.
   *
   * @throws {PiConfigError} naming the first bad field (unknown fields, wrong types, bad values).
   */
  static parse(input: PiConfigInput | PiConfig = {}): PiConfig {
    if (input instanceof PiConfig) return input;
    const result = PiConfigSchema.safeParse(input);
    if (!result.success) {
      const issues = result.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(root)'),
        message:
          issue.code === 'unrecognized_keys'
            ? `unknown field(s): ${issue.keys.join(', ')}`
            : issue.code === 'invalid_key' // a record's key (an MCP server's name): say what is wrong with it
              ? (issue.issues[0]?.message ?? issue.message)
              : issue.message,
      }));
      const first = issues[0] ?? { path: '(root)', message: 'invalid' };
      const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
      throw new PiConfigError(`Invalid PiConfig: ${summary}`, {
        field: first.path,
        issues,
        cause: redactedZodError(result.error.message, input),
      });
    }
    return new PiConfig(result.data, input);
  }

  /** A copy with `overrides` applied and validated again. */
  with(overrides: PiConfigInput): PiConfig {
    return PiConfig.parse({ ...this.toInput(), ...overrides });
  }

  /** The fields that were given (including the API key, without defaults), e.g. to merge into another config. */
  toInput(): PiConfigInput {
    return structuredClone<PiConfigInput>(this.#input);
  }

  /** Which env var `apiKey` goes under: `apiKeyEnv`, else the provider's, else `<PROVIDER>_API_KEY`, else `ANTHROPIC_API_KEY`. */
  apiKeyEnvName(): string | undefined {
    if (this.apiKeyEnv) return this.apiKeyEnv;
    if (this.provider) return providerApiKeyEnv(this.provider);
    return 'ANTHROPIC_API_KEY';
  }

  /**
   * The full command line, starting `[binary, '--mode', 'rpc', …]`, for a dialect (default:
   * `dialect`, else pi 0.73). The API key is never in it.
   *
   * pi 0.73 exits 1 on a flag it doesn't know and omp 18 exits 2, so a field the dialect has no
   * flag for is a `PiConfigError` when it was set explicitly, and left out when it is a default
   * (omp has no prompt templates or themes to turn off). `mcpServers` needs pi 1.x ≥ 0.99 (with
   * `version` unknown, the newest is assumed); they add `-e builtin:mcp`, which loads pi's MCP
   * extension even under `--no-extensions`.
   *
   * @param options `dialect`; `version`, the binary's version when known (some fields need a newer one).
   * @throws {PiConfigError} naming the field the dialect lacks.
   */
  toArgv(options: { readonly dialect?: Dialect; readonly version?: string | undefined } = {}): string[] {
    const dialect = options.dialect ?? this.dialect ?? 'pi-0.73';
    const lacks = (field: keyof PiConfigInput, flag: string, hint = ''): void => {
      throw new PiConfigError(`${DIALECT_NAMES[dialect]} has no ${flag}: remove PiConfig.${field}${hint}`, { field });
    };
    const argv = [this.binary, '--mode', 'rpc'];
    const flag = (name: string, value: string | undefined) => {
      if (value !== undefined) argv.push(name, value);
    };
    const toggle = (name: string, on: boolean) => {
      if (on) argv.push(name);
    };
    const isOmp = dialect === 'omp';
    const isPi1 = dialect === 'pi-1';

    flag('--provider', this.provider);
    flag('--model', this.model);
    if (this.thinking === 'max' && dialect === 'pi-0.73') lacks('thinking', "thinking level 'max'", " (use 'xhigh')");
    flag('--thinking', this.thinking);
    if (this.tools) flag('--tools', this.tools.join(','));
    toggle('--no-tools', this.noTools);
    if (this.noBuiltinTools && isOmp) lacks('noBuiltinTools', '--no-builtin-tools', ' (use tools instead)');
    toggle('--no-builtin-tools', this.noBuiltinTools);
    if (this.excludeTools && !isPi1) lacks('excludeTools', '--exclude-tools', ' (use tools instead)');
    if (this.excludeTools) flag('--exclude-tools', this.excludeTools.join(','));

    const persistent = this.session || this.sessionPath !== undefined || this.sessionId !== undefined || this.continueSession;
    toggle('--no-session', !persistent);
    flag('--session', this.sessionPath);
    if (this.sessionId !== undefined && !isPi1) lacks('sessionId', '--session-id', ' (use sessionPath, or resume)');
    flag('--session-id', this.sessionId);
    toggle('--continue', this.continueSession);
    flag('--session-dir', this.sessionDir);
    if (this.sessionName !== undefined && !isPi1) lacks('sessionName', '--name');
    flag('--name', this.sessionName);

    flag('--system-prompt', this.systemPrompt);
    for (const text of [this.appendSystemPrompt ?? []].flat()) flag('--append-system-prompt', text);

    toggle('--no-extensions', this.noExtensions);
    // `--no-extensions` also turns off pi 1.x's built-in extensions, MCP among them: load that one by name.
    if (this.#checkMcpServers(dialect, options.version)) flag('-e', 'builtin:mcp');
    toggle('--no-skills', this.noSkills);
    if (isOmp) {
      // omp has no prompt templates, themes or AGENTS.md discovery flags; its "rules" are the context files.
      if (this.isSet('noPromptTemplates') && this.noPromptTemplates) lacks('noPromptTemplates', '--no-prompt-templates');
      if (this.isSet('noThemes') && this.noThemes) lacks('noThemes', '--no-themes');
      toggle('--no-rules', this.noContextFiles);
      if (this.offline) lacks('offline', '--offline', ' (omp always probes local model servers)');
    } else {
      toggle('--no-prompt-templates', this.noPromptTemplates);
      toggle('--no-themes', this.noThemes);
      toggle('--no-context-files', this.noContextFiles);
      toggle('--offline', this.offline);
    }
    for (const extension of this.extensions) flag('-e', extension);
    argv.push(...this.extraArgs);
    return argv;
  }

  /**
   * Whether there are MCP servers to load, after checking that this pi can: pi 0.73 and omp have
   * no MCP in RPC mode, pi 1.x before 0.99 none at all, and pi has no legacy SSE transport.
   */
  #checkMcpServers(dialect: Dialect, version: string | undefined): boolean {
    const servers = Object.entries(this.mcpServers ?? {});
    if (servers.length === 0) return false;
    const remove = 'remove PiConfig.mcpServers (pi 1.x ≥ 0.99 connects MCP servers)';
    if (dialect !== 'pi-1') {
      throw new PiConfigError(`${DIALECT_NAMES[dialect]} has no MCP servers in RPC mode: ${remove}`, { field: 'mcpServers' });
    }
    if (version !== undefined && !versionAtLeast(version, '0.99.0')) {
      throw new PiConfigError(`pi ${version} has no MCP support (it came with pi 0.99): ${remove}, or update pi`, { field: 'mcpServers' });
    }
    for (const [name, server] of servers) {
      if (server.type === 'sse') {
        throw new PiConfigError(
          `${DIALECT_NAMES[dialect]} has no legacy SSE transport for MCP server '${name}': use type 'http' (streamable HTTP; servers that serve SSE at /sse often serve it at /mcp)`,
          { field: `mcpServers.${name}.type` },
        );
      }
    }
    return true;
  }

  /**
   * The child's environment. Scrubbed by default: only `envPassthrough` is copied from
   * `parentEnv`, then the isolation variables, the API key and `extraEnv` are added.
   */
  toEnv(parentEnv: Readonly<Record<string, string | undefined>> = process.env): Record<string, string> {
    const env: Record<string, string> = {};
    const names = this.inheritEnv ? Object.keys(parentEnv) : this.envPassthrough;
    for (const name of names) {
      const value = parentEnv[name];
      if (value !== undefined) env[name] = value;
    }
    if (this.agentDir) env['PI_CODING_AGENT_DIR'] = this.agentDir;
    if (this.offline) env['PI_OFFLINE'] = '1';
    if (this.skipVersionCheck) env['PI_SKIP_VERSION_CHECK'] = '1';

    const keyName = this.apiKeyEnvName();
    if (this.apiKey !== undefined && keyName) {
      env[keyName] = this.apiKey;
    } else if (this.apiKeyEnv) {
      // "The env var holding it": pass that one variable through, and under the provider's name too.
      const value = parentEnv[this.apiKeyEnv];
      if (value !== undefined) {
        env[this.apiKeyEnv] = value;
        const providerName = this.provider ? providerApiKeyEnv(this.provider) : undefined;
        if (providerName) env[providerName] = value;
      }
    }
    Object.assign(env, this.extraEnv);
    return env;
  }

  /**
   * The command line to spawn. Without a `launcher` it is {@link toArgv} (a local runtime is
   * resolved when spawning). With one, pi runs on the other side with the same protocol:
   *
   * ```
   * [...launcher, 'sh', '-c', 'cd -- "$0" && exec env -i ${PATH+"PATH=$PATH"} … "$@"', cwd, 'PI_CODING_AGENT_DIR=…', …, runtime?, binary, …args]
   * ```
   *
   * The child environment is rebuilt on the remote side as it is locally: `env -i`, then the
   * `envPassthrough` names (and `apiKeyEnv`) with the **remote** values (a local PATH or HOME
   * means nothing there), then pidriver's own variables (agent dir, offline, `extraEnv`) as
   * explicit `NAME=value` arguments. With `inheritEnv` it is a plain `env NAME=value …` that
   * keeps the remote environment. With `cwd`, pi starts in that directory over there.
   *
   * A launcher such as `ssh` joins its arguments into one command line that the remote shell
   * parses again, so every argument after the launcher is shell-quoted; only for a launcher whose
   * argv mode is `'exec'` (see {@link launcherSpec}) do they go as they are.
   *
   * @param options `dialect` for {@link toArgv}; `argv` replaces pi's own argv (e.g. `[binary, '--version']`);
   *   `cwd`, the working directory on the other side (the script `cd`s there first).
   */
  toLaunchArgv(options: { readonly dialect?: Dialect; readonly argv?: readonly string[]; readonly cwd?: string } = {}): string[] {
    const argv = [...(options.argv ?? this.toArgv(options.dialect ? { dialect: options.dialect } : {}))];
    const launcher = this.launcherSpec();
    if (!launcher) return argv;
    const command = this.runtime ? [this.runtime, ...argv] : argv;
    const own = Object.entries(this.toEnv({})).map(([name, value]) => `${name}=${value}`);
    // `$0` of the script carries the remote cwd (or just names the shell).
    const cd = options.cwd !== undefined ? 'cd -- "$0" && ' : '';
    const zero = options.cwd ?? 'sh';
    let remote: string[];
    if (this.inheritEnv) {
      remote = ['sh', '-c', `${cd}exec env "$@"`, zero, ...own, ...command];
    } else {
      // NAME=<remote value of SOURCE>, only when SOURCE is set over there.
      const pairs = new Map<string, string>(this.envPassthrough.map((name) => [name, name]));
      if (this.apiKeyEnv) {
        pairs.set(this.apiKeyEnv, this.apiKeyEnv);
        const providerName = this.provider ? providerApiKeyEnv(this.provider) : undefined;
        if (providerName && !pairs.has(providerName)) pairs.set(providerName, this.apiKeyEnv);
      }
      const passthrough = [...pairs].map(([name, source]) => `\${${source}+"${name}=$${source}"}`).join(' ');
      remote = ['sh', '-c', `${cd}exec env -i ${passthrough} "$@"`.replace(/ {2,}/g, ' '), zero, ...own, ...command];
    }
    return [...launcher.command, ...(launcher.argv === 'exec' ? remote : remote.map(shellQuote))];
  }

  /**
   * The launcher with its argv mode: as configured in the object form, else `'exec'` for the
   * launchers known to pass argv as is (`docker`/`podman`/`nerdctl` `exec` or `container exec`,
   * `kubectl exec`) and `'shell'` (quote everything) for any other.
   */
  launcherSpec(): LauncherSpec | undefined {
    const launcher = this.launcher;
    if (launcher === undefined) return undefined;
    if (isLauncherSpec(launcher)) return launcher;
    return { command: launcher, argv: passesArgvAsIs(launcher) ? 'exec' : 'shell' };
  }

  /** A plain object of the fields with the API key, and the `env` and `headers` values of `mcpServers`, redacted. */
  toJSON(): Record<string, unknown> {
    const json: Record<string, unknown> = { ...(this as unknown as Record<string, unknown>) };
    if (this.apiKey !== undefined) json['apiKey'] = REDACTED;
    if (this.mcpServers) json['mcpServers'] = redactedMcpServers(this.mcpServers);
    return json;
  }

  toString(): string {
    return `PiConfig ${JSON.stringify(this.toJSON())}`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function isLauncherSpec(launcher: readonly string[] | LauncherSpec): launcher is LauncherSpec {
  return !Array.isArray(launcher);
}

/** `docker exec …`, `podman container exec …`, `kubectl exec …`: run their command as argv, nothing re-parsed. */
function passesArgvAsIs(command: readonly string[]): boolean {
  const [program = '', first, second] = command;
  switch (basename(program)) {
    case 'docker':
    case 'podman':
    case 'nerdctl':
      return first === 'exec' || (first === 'container' && second === 'exec');
    case 'kubectl':
      return first === 'exec';
    default:
      return false;
  }
}

/** Paths (in `value`) of the strings that hold a NUL byte, keys included. */
function nulBytePaths(value: unknown, path: PropertyKey[]): PropertyKey[][] {
  if (typeof value === 'string') return value.includes('\0') ? [path] : [];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => [...(key.includes('\0') ? [[...path, key]] : []), ...nulBytePaths(child, [...path, key])]);
}

/** One argument as a POSIX shell word (for launchers such as `ssh` that hand a command line to a shell). */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The servers with every `env` and `headers` value replaced by `***` (they often hold tokens). */
function redactedMcpServers(servers: McpServers): Record<string, unknown> {
  const redact = (values: Readonly<Record<string, string>>) => Object.fromEntries(Object.keys(values).map((key) => [key, REDACTED]));
  return Object.fromEntries(
    Object.entries(servers).map(([name, server]) => [
      name,
      'url' in server
        ? { ...server, ...(server.headers ? { headers: redact(server.headers) } : {}) }
        : { ...server, ...(server.env ? { env: redact(server.env) } : {}) },
    ]),
  );
}

/** zod messages can echo input values; make sure an API key never rides along in `cause`. */
function redactedZodError(message: string, input: unknown): Error {
  const key = typeof input === 'object' && input !== null ? (input as Record<string, unknown>)['apiKey'] : undefined;
  return new Error(typeof key === 'string' && key.length > 0 ? message.split(key).join(REDACTED) : message);
}
