import type { Subscription } from 'rxjs';
import { BehaviorSubject, Subject, type Observable, type SchedulerLike } from 'rxjs';
import { PiConfigError, PiDriverError, PiPolicyError } from '../errors.js';
import { cancel, coerceDecision, deny } from '../policies/decisions.js';
import { toUiResponse } from '../policies/toUiResponse.js';
import type { Decision, DecisionInput, Policy, PolicyAnswer, PolicyRequest, PolicySession } from '../policies/types.js';
import type { InteractionRequest } from '../protocol/events.js';
import { longTimer } from '../rx/longTimer.js';
import type { SessionEvents } from './SessionEvents.js';

/** An answer that goes on the wire. */
type Answer = Exclude<Decision, { kind: 'defer' }>;

/** An interaction request as classified from pi's dialog frame, before the session stamps it. */
export type RequestFields = Omit<InteractionRequest, 'sessionId' | 'seq' | 'raw' | 'handledBy'>;

interface OpenRequest {
  readonly request: InteractionRequest;
  /** The signal the policy that has the request sees: a fresh one for each policy it is offered to. */
  controller: AbortController;
  /** The policy it was last offered to (its generation); `undefined` while it is offered to none. */
  offeredTo: number | undefined;
  /** Size of pi's frame, for the replay window when the request is published. */
  readonly size: number;
  /**
   * `policy`: the policy is deciding; the request is not on `events$` nor in `pending$`, and
   * `respond()` does not know it. `host`: the policy deferred it: published, and answered by
   * whichever comes first, `respond()` or a later answer of the policy (e.g. a timeout).
   */
  stage: 'policy' | 'host';
  /** pi's own dialog timeout (it resolves the dialog silently): withdraws the request. */
  timeout: Subscription | undefined;
  /** Warns once when a deferred request stays unanswered for long. */
  unanswered: Subscription | undefined;
}

/** Options of {@link InteractionDesk}. @internal */
export interface InteractionDeskOptions {
  readonly sessionId: string;
  readonly policy: Policy;
  /** No policy was given (askHost()): a request nobody could see is denied at once. Off after `setPolicy()`. */
  readonly defaultPolicy: boolean;
  readonly scheduler: SchedulerLike;
  /** The session, as policies' host callbacks see it. */
  readonly session: PolicySession;
  readonly events: SessionEvents;
  /** Writes an answer to pi. */
  readonly write: (command: object) => Promise<void>;
  /** Whether someone outside `pending$` could see a deferred request (`events$`, the run's `prompt$()`). */
  readonly othersWatching: () => boolean;
  /** The number of requests in `pending$` changed. */
  readonly onPendingCount: (count: number) => void;
}

/** How many answered or withdrawn request ids are remembered to ignore late answers. */
const CLOSED_REQUEST_MEMORY = 1_024;

/** How long a request deferred to the host may wait before pidriver warns that nobody answers it. */
const UNANSWERED_WARNING_MS = 60_000;

/**
 * Where a request waits: the open interaction requests of a session, the policy that decides
 * them, and the host's `respond()`.
 *
 * A request goes to the policy first. An answer that isn't `defer` goes to pi, and the request is
 * recorded on `events$` (`handledBy: 'policy'`). A `defer` hands it to the host: it enters
 * `pending$` and `events$` (`handledBy: 'host'`), and the first answer wins, the host's
 * `respond()` or a later one from the policy. A policy that errors or completes fails closed
 * (deny / cancel what it held) and is subscribed again for the next request. Answers to a request
 * already answered or withdrawn are ignored. {@link setPolicy} switches the policy while the
 * session runs.
 *
 * Each subscription of a policy is a generation: answers, errors and completions of an older
 * one (switched away, or stopped) are ignored, and each open request is offered at most once to
 * each generation, which keeps a policy answering synchronously, or a `setPolicy()` from inside a
 * policy, from losing a request or answering one twice.
 *
 * @internal
 */
export class InteractionDesk {
  readonly #options: InteractionDeskOptions;
  readonly #open = new Map<string, OpenRequest>();
  /** Ids of requests already answered or withdrawn (bounded), so late answers are ignored, not errors. */
  readonly #closedIds = new Set<string>();
  readonly #pending = new BehaviorSubject<readonly InteractionRequest[]>([]);
  /** The policy: the one given, or the last one `setPolicy()` set. */
  #policy: Policy;
  #defaultPolicy: boolean;
  /** The generation of the running policy's subscription; bumped when it stops or is switched away. */
  #generation = 0;
  /** The requests of the running policy (one Subject per generation); `undefined`: no policy is running. */
  #requests: Subject<PolicyRequest> | undefined;
  #subscription: Subscription | undefined;
  #started = false;
  #restarts = 0;
  #closed = false;

  /** See `PiSession.pending$`. */
  readonly pending$: Observable<readonly InteractionRequest[]>;

  constructor(options: InteractionDeskOptions) {
    this.#options = options;
    this.#policy = options.policy;
    this.#defaultPolicy = options.defaultPolicy;
    this.pending$ = this.#pending.asObservable();
  }

  /** Requests deferred to the host, oldest first. */
  get pending(): readonly InteractionRequest[] {
    return this.#pending.value;
  }

  /** Subscribes the policy (a new generation; the one running, if any, is unsubscribed first). */
  start(): void {
    const generation = this.#stopPolicy();
    // Closed, or the old policy's teardown called setPolicy(), which subscribed the new one already.
    if (this.#closed || generation !== this.#generation) return;
    this.#started = true;
    const requests = new Subject<PolicyRequest>();
    this.#requests = requests;
    const subscription = this.#policy(requests.asObservable()).subscribe({
      next: (answer) => {
        if (generation === this.#generation) this.#onPolicyAnswer(answer);
      },
      error: (error: unknown) => {
        if (generation === this.#generation) this.#onPolicyStopped(error);
      },
      complete: () => {
        if (generation === this.#generation) this.#onPolicyStopped(new PiDriverError('the interaction policy completed'));
      },
    });
    // Still running? It may have died, or been switched away, while it was being subscribed.
    if (generation === this.#generation) this.#subscription = subscription;
    else subscription.unsubscribe();
  }

  /**
   * Switches the policy: later requests go to `policy`, and every request still open is offered
   * to it again, oldest first.
   *
   * - The old policy is unsubscribed; its answers from now on are ignored, and the signal it was
   *   given for each open request aborts (`PI_REQUEST_WITHDRAWN`).
   * - A request it was still deciding goes to `policy` as a new request would: an answer goes to
   *   pi and records the request on `events$` (`handledBy: 'policy'`), a `defer` hands it to the
   *   host (`handledBy: 'host'`). Either way it is on `events$` once.
   * - A request it had left to the host stays in `pending$`, answerable with `respond()`, while
   *   `policy` decides it too; the first answer wins. If `policy` answers, the request leaves
   *   `pending$` and the answer goes to pi, with no second event (as when `timeoutDecision` answers
   *   a deferred request); a `defer` leaves it as it is.
   * - `policy` fails closed like the first one: if it errors or completes, what it is deciding is
   *   denied (a permission) or cancelled, with a `policy_error` event, and a fresh copy of it
   *   takes the next requests. Requests left to the host stay there.
   * - The default policy's safeguard (a request nobody could see is denied at once) ends: any
   *   policy set here, `askHost()` too, is one the app chose, and its deferred requests wait for
   *   `respond()`.
   *
   * Re-entrant: `policy` may answer synchronously, and `setPolicy()` may be called from inside a
   * policy or an `events$` subscriber; the last policy set gets every open request once.
   *
   * @param policy The new policy.
   * @throws {PiConfigError} naming `policy` when it is not a function; nothing is changed.
   *   Once the session is closed, a valid `policy` is ignored (there is nothing left to decide).
   */
  setPolicy(policy: Policy): void {
    if (typeof policy !== 'function') {
      const got = policy === null ? 'null' : typeof policy;
      throw new PiConfigError(`setPolicy: policy must be a function (an operator from PolicyRequest to PolicyAnswer), got ${got}`, { field: 'policy' });
    }
    if (this.#closed) return;
    this.#policy = policy;
    this.#defaultPolicy = false;
    if (!this.#started) return; // start() subscribes it
    this.#restarts = 0;
    this.start();
    // Offered once per generation: a no-op for what a nested setPolicy() or a synchronous answer handled already.
    for (const open of [...this.#open.values()]) this.#offer(open);
  }

  /** A dialog from pi: opens a request and hands it to the policy. */
  open(fields: RequestFields, raw: Record<string, unknown>, size: number): void {
    // Stamped with its seq only when published: the policy decides first.
    const request = { ...fields, raw, sessionId: this.#options.sessionId, seq: 0 } as InteractionRequest;
    const controller = new AbortController();
    const open: OpenRequest = { request, controller, offeredTo: undefined, size, stage: 'policy', timeout: undefined, unanswered: undefined };
    this.#open.set(request.requestId, open);
    if (request.timeoutMs !== undefined) {
      // pi resolves a dialog with a timeout itself, silently (no frame says so): withdraw it at the same time.
      open.timeout = longTimer(request.timeoutMs, this.#options.scheduler).subscribe(() => this.withdraw(request.requestId));
    }
    if (this.#requests === undefined) {
      this.#decideByPolicy(open, failClosed(request, 'no policy is running'));
      return;
    }
    this.#restarts = 0;
    this.#offer(open);
  }

  /** See `PiSession.respond`. */
  async respond(requestId: string, value: DecisionInput): Promise<void> {
    const open = this.#open.get(requestId);
    // A request the policy is still deciding is not the host's to answer (nor to know about).
    if (!open || open.stage === 'policy') {
      if (this.#closedIds.has(requestId)) return; // late answer: ignored on purpose
      throw new PiPolicyError(requestId, `No open interaction request with id "${requestId}"`);
    }
    const decision = coerceDecision(open.request, value);
    if (decision.kind === 'defer') return;
    await this.#answer(open, decision);
  }

  /** Closes a request without answering it (pi dismissed it, or its run ended). */
  withdraw(requestId: string): void {
    const open = this.#open.get(requestId);
    if (open) this.#close(open);
  }

  /** Cancels every open request on the wire (before an abort or close: pi can't abort while a dialog waits). */
  cancelAll(): void {
    for (const open of [...this.#open.values()]) this.#answerQuietly(open, cancel());
  }

  /** The session is over: withdraws what is open, stops the policy, completes `pending$`. */
  close(): void {
    this.#closed = true;
    for (const open of [...this.#open.values()]) this.#close(open);
    this.#stopPolicy();
    this.#pending.complete();
  }

  /**
   * Ignores the running policy from now on and unsubscribes it (its teardown may re-enter).
   *
   * @returns The new generation, for the caller to compare with `#generation` after.
   */
  #stopPolicy(): number {
    const generation = ++this.#generation;
    this.#requests = undefined;
    const subscription = this.#subscription;
    this.#subscription = undefined;
    subscription?.unsubscribe();
    return generation;
  }

  /**
   * Offers an open request to the running policy, unless it has it already. A request another
   * policy had is withdrawn from that one first (its signal aborts; a listener may re-enter).
   */
  #offer(open: OpenRequest): void {
    if (open.offeredTo !== undefined && open.offeredTo !== this.#generation) {
      const previous = open.controller;
      open.controller = new AbortController();
      open.offeredTo = undefined;
      previous.abort(new PiDriverError('interaction request withdrawn: the session switched its policy', { code: 'PI_REQUEST_WITHDRAWN' }));
    }
    const requests = this.#requests;
    if (requests === undefined || open.offeredTo !== undefined || this.#open.get(open.request.requestId) !== open) return;
    open.offeredTo = this.#generation;
    requests.next({ request: open.request, signal: open.controller.signal, session: this.#options.session });
  }

  /**
   * Fail closed: whatever the policy was still deciding is denied; later requests get a fresh
   * policy. A `setPolicy()` from an `events$` subscriber meanwhile takes over what is left.
   */
  #onPolicyStopped(error: unknown): void {
    const generation = this.#stopPolicy();
    if (this.#closed) return;
    const message = `interaction policy failed: ${error instanceof Error ? error.message : String(error)}`;
    this.#emitError(message);
    for (const open of [...this.#open.values()]) {
      if (this.#generation !== generation) return;
      if (open.stage === 'policy') this.#decideByPolicy(open, failClosed(open.request, message));
    }
    // Restart the policy for the next requests, unless it keeps dying without any new request.
    if (this.#generation === generation && this.#restarts++ < 3) this.start();
  }

  #onPolicyAnswer(answer: PolicyAnswer): void {
    const open = this.#open.get(answer.requestId);
    // Late, duplicate, withdrawn, or not given to this policy (another one had it): ignore.
    if (!open || open.offeredTo !== this.#generation) return;
    let decision: Decision;
    try {
      decision = coerceDecision(open.request, answer.decision);
    } catch (error) {
      const message = `policy answered request ${answer.requestId} with an invalid decision: ${(error as Error).message}`;
      const generation = this.#generation;
      this.#emitError(message);
      if (this.#generation === generation) this.#decideByPolicy(open, failClosed(open.request, message)); // else a new policy has it
      return;
    }
    if (decision.kind === 'defer') {
      if (open.stage === 'policy') this.#deferToHost(open); // stays open for respond()
      return;
    }
    this.#decideByPolicy(open, decision);
  }

  /**
   * The policy deferred a request: show it to the host (`pending$`, then `events$`, where a
   * subscriber may answer it synchronously). With the default policy and nobody who could ever
   * see it, it is denied at once instead of hanging the run.
   */
  #deferToHost(open: OpenRequest): void {
    const { request } = open;
    const { events, scheduler, sessionId } = this.#options;
    if (this.#defaultPolicy && !(this.#pending.observed || this.#options.othersWatching())) {
      const message =
        `nobody can answer ${describeRequest(request)}: the session has the default policy (askHost(), which leaves every request to the host) ` +
        'and nothing subscribes to session.pending$ or session.events$. Pass a policy to client.start() (e.g. autoApprove(), allowTools([...]), askHost(callback)), ' +
        'or answer with session.respond() from pending$ or events$';
      this.#emitError(message);
      this.#decideByPolicy(open, failClosed(request, message));
      return;
    }
    open.stage = 'host';
    request.handledBy = 'host';
    events.stamp(request); // its seq first: pending$ and events$ show the same request
    this.#publishPending();
    events.publish(request, open.size);
    if (this.#open.get(request.requestId) !== open) return; // answered already, from events$
    open.unanswered = longTimer(UNANSWERED_WARNING_MS, scheduler).subscribe(() => {
      process.emitWarning(
        `pidriver: ${describeRequest(request)} of session ${sessionId} has waited ${UNANSWERED_WARNING_MS / 1000} s for session.respond(); ` +
          'the run waits until it is answered (or pass a policy that decides it)',
        { code: 'PIDRIVER_UNANSWERED_REQUEST' },
      );
    });
  }

  /**
   * The policy answered: send it. A request the policy decided on its own is then recorded on
   * `events$` (`handledBy: 'policy'`, already answered: a host can't change it); one it had
   * deferred is there already.
   */
  #decideByPolicy(open: OpenRequest, decision: Answer): void {
    if (this.#open.get(open.request.requestId) !== open) return;
    this.#answerQuietly(open, decision);
    if (open.stage === 'host') return;
    open.request.handledBy = 'policy';
    this.#options.events.emit(open.request, open.size);
  }

  async #answer(open: OpenRequest, decision: Answer): Promise<void> {
    if (this.#open.get(open.request.requestId) !== open) return;
    this.#close(open);
    await this.#options.write(toUiResponse(open.request, decision));
  }

  /**
   * An answer nobody awaits (from a policy, or a cancel on abort/close). If the write fails, pi is
   * gone: the death path reports that, so the rejection is dropped here on purpose.
   */
  #answerQuietly(open: OpenRequest, decision: Answer): void {
    this.#answer(open, decision).catch(() => undefined);
  }

  #close(open: OpenRequest): void {
    this.#open.delete(open.request.requestId);
    this.#closedIds.add(open.request.requestId);
    if (this.#closedIds.size > CLOSED_REQUEST_MEMORY) {
      const oldest = this.#closedIds.values().next();
      if (!oldest.done) this.#closedIds.delete(oldest.value);
    }
    open.timeout?.unsubscribe();
    open.unanswered?.unsubscribe();
    open.controller.abort(new PiDriverError('interaction request withdrawn', { code: 'PI_REQUEST_WITHDRAWN' }));
    if (open.stage === 'host') this.#publishPending();
  }

  #publishPending(): void {
    const pending: InteractionRequest[] = [];
    for (const open of this.#open.values()) if (open.stage === 'host') pending.push(open.request);
    this.#pending.next(pending);
    this.#options.onPendingCount(pending.length);
  }

  #emitError(message: string): void {
    this.#options.events.emit({ type: 'error', code: 'policy_error', fatal: false, message, raw: undefined }, message.length);
  }
}

function failClosed(request: InteractionRequest, message: string): Answer {
  return request.kind === 'permission' ? deny(message) : cancel();
}

function describeRequest(request: InteractionRequest): string {
  const tool = request.kind === 'permission' && request.toolName !== undefined ? ` for tool "${request.toolName}"` : '';
  return `interaction request ${request.requestId} (${request.kind}${tool})`;
}
