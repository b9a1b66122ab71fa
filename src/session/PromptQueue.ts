import { AsyncSubject, lastValueFrom, type Observable } from 'rxjs';
import type { PiEvent } from '../protocol/events.js';
import type { RunLimits } from '../limits/RunLimits.js';
import type { OutputRequest } from '../tools/outputTool.js';
import type { PromptImage, RunResult } from './types.js';

/** What a prompt asks of its run besides the message. @internal */
export interface RunOptions {
  readonly images?: readonly PromptImage[] | undefined;
  /** Structured output: the result tool offered for the run. */
  readonly output?: OutputRequest | undefined;
  /** Limits of this prompt's run (over the session's, field by field). */
  readonly limits?: RunLimits | undefined;
}

/** Gets the events of the run a prompt started (`prompt$()`'s subscriber). @internal */
export interface RunListener {
  next(event: PiEvent): void;
}

/**
 * One prompt the host asked for, waiting for (or in) its run: its message, and two one-value
 * streams the session settles synchronously, `accepted$` (pi took the prompt) and `result$` (its
 * run ended); `accepted` and `result` are their promises.
 *
 * @internal
 */
export class PromptTicket {
  readonly message: string;
  readonly images: readonly PromptImage[] | undefined;
  readonly output: OutputRequest | undefined;
  readonly limits: RunLimits | undefined;
  readonly listeners = new Set<RunListener>();
  readonly #accepted = new AsyncSubject<void>();
  readonly #result = new AsyncSubject<RunResult>();
  /** Emits once pi accepted the prompt, then completes; errors if it refused it. */
  readonly accepted$: Observable<void> = this.#accepted.asObservable();
  /** Emits the run's result, then completes; errors if pi refused the prompt or the session ended. */
  readonly result$: Observable<RunResult> = this.#result.asObservable();

  constructor(message: string, options: RunOptions = {}) {
    this.message = message;
    this.images = options.images;
    this.output = options.output;
    this.limits = options.limits;
  }

  /** {@link accepted$} as a promise. */
  get accepted(): Promise<void> {
    return lastValueFrom(this.accepted$, { defaultValue: undefined });
  }

  /** {@link result$} as a promise. */
  get result(): Promise<RunResult> {
    return lastValueFrom(this.result$);
  }

  /** pi took the prompt. */
  accept(): void {
    this.#accepted.next();
    this.#accepted.complete();
  }

  /** The run ended. */
  settle(result: RunResult): void {
    this.#result.next(result);
    this.#result.complete();
  }

  /** The prompt command failed (`accepted` rejects); the result is left to the run, if one goes on. */
  refuse(error: Error): void {
    this.#accepted.error(error);
  }

  /** pi refused the prompt, it was cancelled, or the session ended: both reject. */
  fail(error: Error): void {
    this.#accepted.error(error);
    this.#result.error(error);
  }
}

/**
 * The prompts waiting for the current run to end, oldest first. pi silently drops a second
 * `prompt` while it runs, so the session sends the next one only when a run ended.
 *
 * @internal
 */
export class PromptQueue {
  #tickets: PromptTicket[] = [];

  get length(): number {
    return this.#tickets.length;
  }

  push(ticket: PromptTicket): void {
    this.#tickets.push(ticket);
  }

  /** The oldest waiting prompt, taken out. */
  shift(): PromptTicket | undefined {
    return this.#tickets.shift();
  }

  /** Takes `ticket` out if it is still waiting; whether it was. */
  remove(ticket: PromptTicket): boolean {
    const index = this.#tickets.indexOf(ticket);
    if (index < 0) return false;
    this.#tickets.splice(index, 1);
    return true;
  }

  /** Every waiting prompt, taken out. */
  drain(): PromptTicket[] {
    const tickets = this.#tickets;
    this.#tickets = [];
    return tickets;
  }
}
