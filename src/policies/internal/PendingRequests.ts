import type { InteractionRequest } from '../../protocol/events.js';
import { policyContext } from '../context.js';
import type { PolicyAnswer } from '../types.js';

interface Entry {
  readonly request: InteractionRequest;
  /** Answered `defer` already: left to the host, or to a later answer of the same policy. */
  deferred: boolean;
}

/**
 * @internal The requests a policy has been given and not answered yet, by id. Withdrawn requests
 * (their context signal aborted) are swept on each `add`, so a policy that never answers them
 * doesn't grow the map for the life of the session.
 *
 * A policy answers a request once, except that `defer` may be followed by one real answer (a
 * timeout after leaving it to the host): the first answer and the first non-`defer` answer after
 * a `defer` are taken, every other one is ignored.
 */
export class PendingRequests {
  readonly #byId = new Map<string, Entry>();

  add(request: InteractionRequest): void {
    for (const [id, entry] of this.#byId) if (policyContext(entry.request).signal.aborted) this.#byId.delete(id);
    this.#byId.set(request.requestId, { request, deferred: false });
  }

  /** The request `answer` is for, if the answer counts (see the class doc); `undefined` to ignore it. */
  take(answer: PolicyAnswer): InteractionRequest | undefined {
    const entry = this.#byId.get(answer.requestId);
    if (entry === undefined) return undefined;
    if (answer.decision.kind === 'defer') {
      if (entry.deferred) return undefined;
      entry.deferred = true;
      return entry.request;
    }
    this.#byId.delete(answer.requestId);
    return entry.request;
  }

  /** Removes every request; returns those neither answered, deferred nor withdrawn. */
  drain(): InteractionRequest[] {
    const open: InteractionRequest[] = [];
    for (const { request, deferred } of this.#byId.values()) if (!deferred && !policyContext(request).signal.aborted) open.push(request);
    this.#byId.clear();
    return open;
  }
}
