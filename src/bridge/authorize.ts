import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { invalidOption } from './resolveHandlerOptions.js';

/** The shortest bridge `token` accepted: shorter ones can be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/** `true` lets the request through; `false` is a 403; an object picks the status and the message. */
export type AuthorizeResult = boolean | { readonly status: number; readonly error: string };

/** Decides whether a request may use the bridge. Runs before every route. */
export type Authorize = (req: IncomingMessage) => AuthorizeResult | Promise<AuthorizeResult>;

/** Options of {@link defaultAuthorize}. */
export interface AccessOptions {
  /**
   * A shared secret: every request must carry `Authorization: Bearer <token>` (or, for an
   * `EventSource`, which can't set headers, the query parameter `token`). At least 16
   * characters; an empty or shorter one throws a `PiConfigError` (an empty environment variable
   * must not turn the check off). It is redacted from every text the bridge writes.
   * `undefined` is no token.
   */
  readonly token?: string | undefined;
  /**
   * Origins (`https://app.example.com`) allowed besides the bridge's own; `'*'` in the list
   * allows any. Requests without an `Origin` header (same-origin GETs, curl, servers) pass.
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * Without a `token`, only requests whose `Host` is a loopback name (`localhost`, `127.x.x.x`,
   * `[::1]`) or in this list pass: a page on another site can't reach the bridge through DNS
   * rebinding. `'*'` turns the check off. With a token the token is the check.
   */
  readonly allowedHosts?: readonly string[] | '*';
}

/**
 * The default access check: cross-origin requests only from `allowedOrigins`, the `Host` check
 * while no token is set (DNS rebinding), and the token when one is set. So, out of the box, only
 * pages served by the same server (or code on the machine that isn't a browser) can drive the
 * agent, and a token locks out the rest of the machine too.
 *
 * ## Example
 * ```ts
 * const check = defaultAuthorize({ token: process.env.BRIDGE_TOKEN });
 * sessionHandler(session, { authorize: async (req) => (await check(req)) === true && isStaff(req) });
 * ```
 *
 * @param options Token, allowed origins and hosts.
 * @return An {@link Authorize} hook.
 * @throws {PiConfigError} naming `token` when it is empty, shorter than 16 characters, or padded with whitespace.
 */
export function defaultAuthorize(options: AccessOptions = {}): Authorize {
  checkToken(options.token);
  const tokenDigest = options.token === undefined ? undefined : digest(options.token);
  return (req) => {
    const origin = originCheck(req, options.allowedOrigins ?? []);
    if (origin !== true) return origin;
    if (tokenDigest === undefined) return hostCheck(req, options.allowedHosts ?? []);
    const given = presentedToken(req);
    if (given === undefined) return { status: 401, error: 'a token is required (Authorization: Bearer <token>)' };
    return timingSafeEqual(digest(given), tokenDigest) ? true : { status: 401, error: 'wrong token' };
  };
}

/**
 * Whether the request's `Origin` (if any) is the bridge's own or in `allowed`.
 *
 * @param req The request.
 * @param allowed Extra allowed origins (`'*'`: any).
 * @return `true`, or a 403.
 */
export function originCheck(req: IncomingMessage, allowed: readonly string[]): AuthorizeResult {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined; // `null` (sandboxed frames, file://) and garbage
  }
  if (host !== undefined && host === req.headers.host) return true;
  return { status: 403, error: `origin ${origin} is not allowed (sessionHandler's allowedOrigins)` };
}

/** True when `origin` may read responses cross-origin (it is listed, not just same-origin). */
export function isListedOrigin(origin: string | undefined, allowed: readonly string[]): origin is string {
  return origin !== undefined && (allowed.includes('*') || allowed.includes(origin));
}

/**
 * Checks a bridge token: at least {@link MIN_TOKEN_LENGTH} characters, no surrounding
 * whitespace. An empty string (a set-but-empty environment variable) is refused, not read as
 * "no token": that would silently turn the token check off and the Host check on.
 *
 * @param token The token, if one was given.
 * @throws {PiConfigError} naming `token` (the message never contains the token).
 * @internal
 */
export function checkToken(token: string | undefined): void {
  if (token === undefined) return;
  if (typeof token !== 'string') throw invalidOption('token', `must be a string, got ${typeof token}`);
  if (token.trim() !== token) throw invalidOption('token', 'has leading or trailing whitespace (it could not be sent in an Authorization header)');
  if (token.length < MIN_TOKEN_LENGTH) {
    const given = token.length === 0 ? 'is empty (an unset environment variable?)' : `has ${token.length} characters`;
    throw invalidOption(
      'token',
      `${given}; at least ${MIN_TOKEN_LENGTH} are needed, e.g. crypto.randomBytes(24).toString('base64url'). Leave token out (undefined) to allow loopback hosts only`,
    );
  }
}

function hostCheck(req: IncomingMessage, allowed: readonly string[] | '*'): AuthorizeResult {
  if (allowed === '*') return true;
  const host = req.headers.host ?? '';
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  if (isLoopback(hostname) || allowed.includes(hostname) || allowed.includes(host)) return true;
  return {
    status: 403,
    error: `host ${host || '(none)'} is not allowed: without a token only loopback hosts are (set allowedHosts or a token)`,
  };
}

function isLoopback(hostname: string): boolean {
  const name = hostname.toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}

function presentedToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match?.[1];
  }
  return new URL(req.url ?? '/', 'http://localhost').searchParams.get('token') ?? undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
