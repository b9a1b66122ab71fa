import type { PiConfig } from '../config/PiConfig.js';

/** What a secret is replaced with in the text pidriver passes on. */
export const REDACTED = '***';

/** Environment variables whose values count as secrets: `…_API_KEY`, `…_TOKEN`, `…_SECRET`, `…_PASSWORD`, … */
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSW|CREDENTIAL/i;
/** Shorter values are left alone: masking them would garble everything else. */
const MIN_SECRET_CHARS = 6;
/** The shortest start of a secret masked at the end of an unfinished line. */
const MIN_FRAGMENT_CHARS = 4;

/**
 * The secrets of a pi process, to mask in what pidriver passes on of pi's own text (its stderr,
 * spawn errors): the `apiKey`, and the value of every variable of the child's environment
 * ({@link PiConfig.toEnv}) that holds the key or whose name says it is secret (`KEY`, `TOKEN`,
 * `SECRET`, `PASSWORD`, `CREDENTIAL`). Each also in its JSON-escaped form; longest first.
 *
 * @param config The session's config.
 * @param parentEnv The environment the child's is built from.
 * @return The strings to mask, longest first.
 * @internal
 */
export function secretsOf(config: PiConfig, parentEnv: Readonly<Record<string, string | undefined>>): string[] {
  const keyNames = new Set([config.apiKeyEnvName(), config.apiKeyEnv]);
  const values = new Set<string>();
  if (config.apiKey !== undefined) values.add(config.apiKey);
  for (const [name, value] of Object.entries(config.toEnv(parentEnv))) {
    if (keyNames.has(name) || SECRET_NAME.test(name)) values.add(value);
  }
  // MCP servers' env and header values (tokens, `Authorization: Bearer …`) are as secret as the key.
  for (const server of Object.values(config.mcpServers ?? {})) {
    const fields = 'env' in server ? server.env : 'headers' in server ? server.headers : undefined;
    for (const value of Object.values(fields ?? {})) values.add(value);
  }
  const secrets = new Set<string>();
  for (const value of values) {
    if (value.length < MIN_SECRET_CHARS) continue;
    secrets.add(value);
    secrets.add(JSON.stringify(value).slice(1, -1));
  }
  return [...secrets].sort((a, b) => b.length - a.length);
}

/**
 * `text` with every occurrence of each secret replaced by {@link REDACTED}.
 * @internal
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let redacted = text;
  for (const secret of secrets) if (redacted.includes(secret)) redacted = redacted.split(secret).join(REDACTED);
  return redacted;
}

/**
 * {@link redactSecrets}, and also the start of a secret at the very end of `text` (an unfinished
 * line whose rest has not arrived yet).
 * @internal
 */
export function redactSecretsAndTail(text: string, secrets: readonly string[]): string {
  let redacted = redactSecrets(text, secrets);
  for (const secret of secrets) {
    for (let length = Math.min(secret.length - 1, redacted.length); length >= MIN_FRAGMENT_CHARS; length--) {
      if (redacted.endsWith(secret.slice(0, length))) {
        redacted = redacted.slice(0, -length) + REDACTED;
        break;
      }
    }
  }
  return redacted;
}
