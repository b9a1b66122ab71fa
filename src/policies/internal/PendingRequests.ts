import type { PolicyAnswer, PolicyRequest } from '../types.js';

interface Entry {
  readonly input: PolicyRequest;
  /** Answered `defer` already: left to the host, or to a later answer of the same policy. */
  deferred: boolean;
}

/**
 * @internal The requests a policy has been given and not answered yet, by id. Withdrawn requests
 * (their signal aborted) are swept on each `add`, so a policy that never answers them doesn't
 * grow the map for the life of the session.
 *
 * A policy answers a request once, except that `defer` may be followed by one real answer (a
 * timeout after leaving it to the host): the first answer and the first non-`defer` answer after
 * a `defer` are taken, every other one is ignored.
 */
export class PendingRequests {
  readonly #byId = new Map<string, Entry>();

  add(input: PolicyRequest): void {
    for (const [id, entry] of this.#byId) if (entry.input.signal.aborted) this.#byId.delete(id);
    this.#byId.set(input.request.requestId, { input, deferred: false });
  }

  /** The request `answer` is for, if the answer counts (see the class doc); `undefined` to ignore it. */
  take(answer: PolicyAnswer): PolicyRequest | undefined {
    const entry = this.#byId.get(answer.requestId);
    if (entry === undefined) return undefined;
    if (answer.decision.kind === 'defer') {
      if (entry.deferred) return undefined;
      entry.deferred = true;
      return entry.input;
    }
    this.#byId.delete(answer.requestId);
    return entry.input;
  }

  /** Removes every request; returns those neither answered, deferred nor withdrawn. */
  drain(): PolicyRequest[] {
    const open: PolicyRequest[] = [];
    for (const { input, deferred } of this.#byId.values()) if (!deferred && !input.signal.aborted) open.push(input);
    this.#byId.clear();
    return open;
  }
}
