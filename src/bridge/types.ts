import type { Observable } from 'rxjs';
import type { DecisionInput } from '../policies/types.js';
import type { InteractionRequest, PiEvent } from '../protocol/events.js';
import type { RunResult, SessionState } from '../protocol/sessionValues.js';
import type { PromptOptions } from '../session/types.js';

/**
 * What the bridge needs from a session. Structural: a `PiSession` is one, and so is any object
 * with these members (a test fake, a wrapper that adds logging).
 *
 * `events$` must replay its current window **synchronously** on subscription, as a `PiSession`
 * does, and carry a gap-free increasing `seq`: the bridge resumes reconnecting clients from it.
 * `state$` must replay its current value synchronously (its `eventCount` is the last `seq`).
 */
export interface BridgeSession {
  readonly sessionId: string;
  readonly events$: Observable<PiEvent>;
  /**
   * Optional: like `events$`, but replaying everything retained, a finished run included (a
   * `PiSession` has it). When present, the bridge resumes and serves fresh clients from it, so a
   * browser that reconnects just after a run ended still gets that run's tail.
   */
  readonly recentEvents$?: Observable<PiEvent>;
  readonly state$: Observable<SessionState>;
  readonly pending$: Observable<readonly InteractionRequest[]>;
  prompt(text: string, options?: PromptOptions): Promise<RunResult>;
  prompt$(text: string, options?: Omit<PromptOptions, 'signal'>): Observable<PiEvent>;
  abort(): Promise<void>;
  respond(requestId: string, value: DecisionInput): Promise<void>;
}

/**
 * Many sessions by id: a `PiSessionManager` of `PiSession`s is one. The bridge serves each under
 * `/sessions/:id/…` and lists them at `/sessions`.
 */
export interface BridgeSessionSource<S extends BridgeSession = BridgeSession> {
  get(sessionId: string): S;
  has(sessionId: string): boolean;
  ids(): string[];
}
