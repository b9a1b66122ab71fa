/**
 * Per-request context for policies, kept beside the request rather than inside it: the session
 * attaches `{ signal, session }` to each request before handing it to the policy, and pure
 * operators read it back with {@link policyContext}. The request data stays exactly what
 * `events$` emitted.
 *
 * Context is keyed by object identity: a copy of a request (`{ ...request }`) has none.
 */
import type { InteractionRequest } from '../protocol/events.js';
import type { PolicyContext } from './types.js';

const contexts = new WeakMap<InteractionRequest, PolicyContext>();

/** A signal that never aborts: the context of a request nobody attached one to. */
const DEFAULT_CONTEXT: PolicyContext = Object.freeze({ signal: new AbortController().signal });

/**
 * Attaches a context to a request (replacing any earlier one). Used by the session.
 *
 * @param request The request, as emitted on `events$`.
 * @param context Its abort signal (aborted when the request is withdrawn) and its session.
 * @see {@link policyContext}
 */
export function attachPolicyContext(request: InteractionRequest, context: PolicyContext): void {
  contexts.set(request, context);
}

/**
 * The context attached to a request; without one, a signal that never aborts and no session.
 *
 * @param request The request.
 * @return Its context.
 * @see {@link attachPolicyContext}
 */
export function policyContext(request: InteractionRequest): PolicyContext {
  return contexts.get(request) ?? DEFAULT_CONTEXT;
}

/**
 * Test helper: attaches a context and returns the same request, for use in marble value maps.
 *
 * ## Example
 * ```ts
 * const withdrawn = new AbortController();
 * const values = { a: withPolicyContext(makeRequest('permission'), { signal: withdrawn.signal }) };
 * ```
 *
 * @param request The request.
 * @param context The context to attach.
 * @return `request` itself.
 */
export function withPolicyContext<T extends InteractionRequest>(request: T, context: PolicyContext): T {
  contexts.set(request, context);
  return request;
}
