import type { InteractionRequest } from '../../protocol/events.js';
import { policyContext } from '../context.js';

/**
 * @internal The requests a policy has been given and not answered yet, by id. Withdrawn requests
 * (their context signal aborted) are swept on each `add`, so a policy that never answers them
 * doesn't grow the map for the life of the session.
 */
export class PendingRequests {
  readonly #byId = new Map<string, InteractionRequest>();

  add(request: InteractionRequest): void {
    for (const [id, open] of this.#byId) if (policyContext(open).signal.aborted) this.#byId.delete(id);
    this.#byId.set(request.requestId, request);
  }

  /** Removes and returns the request with this id, if it is pending. */
  take(requestId: string): InteractionRequest | undefined {
    const request = this.#byId.get(requestId);
    this.#byId.delete(requestId);
    return request;
  }

  /** Removes and returns every pending request that has not been withdrawn. */
  drain(): InteractionRequest[] {
    const open = [...this.#byId.values()].filter((request) => !policyContext(request).signal.aborted);
    this.#byId.clear();
    return open;
  }
}
