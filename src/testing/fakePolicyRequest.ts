import type { PolicyContext, PolicyRequest } from '../policies/types.js';
import type { InteractionKind, InteractionRequest } from '../protocol/events.js';
import { fakeInteractionRequest } from './fakeInteractionRequest.js';

type Overrides = Partial<Omit<InteractionRequest, 'type' | 'kind'>>;

/**
 * A request as a policy receives it, for marble-testing policies without a session: a
 * {@link fakeInteractionRequest} with its abort signal (by default one that never aborts; pass
 * your own to test a withdrawal) and, optionally, a session.
 *
 * ## Example
 * ```ts
 * const withdraw = new AbortController();
 * const rm = fakePolicyRequest('permission', { toolName: 'bash' }, { signal: withdraw.signal });
 * testScheduler.run(({ cold, expectObservable }) => {
 *   expectObservable(cold('-a|', { a: rm }).pipe(myPolicy)).toBe('-b|', { b: { requestId: rm.request.requestId, decision: deny() } });
 * });
 * ```
 *
 * @param kind The request kind.
 * @param overrides Fields of the request to set (`requestId`, `toolName`, `options`, `method`, …).
 * @param context `signal` (default: one that never aborts) and `session` (default: none).
 * @return `{ request, signal, session? }`, ready to feed a policy.
 * @see {@link fakeInteractionRequest}
 */
export function fakePolicyRequest(kind: InteractionKind, overrides: Overrides = {}, context: Partial<PolicyContext> = {}): PolicyRequest {
  const request = fakeInteractionRequest(kind, overrides);
  const signal = context.signal ?? new AbortController().signal;
  return context.session === undefined ? { request, signal } : { request, signal, session: context.session };
}
