import type { PiEvent } from '../protocol/events.js';
import type { PromptImage, RunResult } from './types.js';

/** Gets the events of the run a prompt started (`prompt$()`'s subscriber). @internal */
export interface RunListener {
  next(event: PiEvent): void;
}

/**
 * One prompt the host asked for, waiting for (or in) its run: its message, and the two promises
 * the host holds, `accepted` (pi took the prompt) and `result` (its run ended).
 *
 * @internal
 */
export class PromptTicket {
  readonly message: string;
  readonly images: readonly PromptImage[] | undefined;
  readonly listeners = new Set<RunListener>();
  /** Resolves with the run's result; rejects if pi refused the prompt or the session ended. */
  readonly result: Promise<RunResult>;
  /** Resolves once pi accepted the prompt (rejects if it refused it). */
  readonly accepted: Promise<void>;
  #resolve!: (result: RunResult) => void;
  #reject!: (error: Error) => void;
  #accept!: () => void;
  #refuse!: (error: Error) => void;

  constructor(message: string, images: readonly PromptImage[] | undefined) {
    this.message = message;
    this.images = images;
    this.result = new Promise<RunResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.accepted = new Promise<void>((resolve, reject) => {
      this.#accept = resolve;
      this.#refuse = reject;
    });
    this.accepted.catch(() => undefined);
  }

  /** pi took the prompt. */
  accept(): void {
    this.#accept();
  }

  /** The run ended. */
  settle(result: RunResult): void {
    this.#resolve(result);
  }

  /** The prompt command failed (`accepted` rejects); the result is left to the run, if one goes on. */
  refuse(error: Error): void {
    this.#refuse(error);
  }

  /** pi refused the prompt, it was cancelled, or the session ended: both promises reject. */
  fail(error: Error): void {
    this.#refuse(error);
    this.#reject(error);
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
