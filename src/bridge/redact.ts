/** What a redacted secret is replaced with. */
export const REDACTED = '[redacted]';

// A query parameter whose name looks like it carries a credential: `token`, `access_token`,
// `api_key`, `x-api-key`, `secret`, `password`, `auth`, `sig`, … Its value goes, the name stays.
const SECRET_PARAM = /([?&;][^=&#\s]*(?:token|secret|passw(?:or)?d|pwd|key|auth|credential|sig)[^=&#\s]*=)[^&#\s]*/gi;
const BEARER = /\b(Bearer\s+)\S+/gi;

/**
 * Makes a function that takes every secret out of a text the bridge surfaces (warnings, error
 * bodies, close and failure frames, `onClientDropped`'s `path`): each of `secrets` (and its
 * URL-encoded form), the values of token-like query parameters, and `Bearer` credentials.
 *
 * @param secrets Literal secrets to remove (the bridge's `token`); empty strings are ignored.
 * @return `(text) => text` with every secret replaced by `[redacted]`.
 * @internal
 */
export function createRedactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  const literals = new Set<string>();
  for (const secret of secrets) {
    if (secret === undefined || secret.length === 0) continue;
    literals.add(secret);
    literals.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is removed whole.
  const ordered = [...literals].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out.replace(SECRET_PARAM, `$1${REDACTED}`).replace(BEARER, `$1${REDACTED}`);
  };
}
