import { catchError, concatMap, defaultIfEmpty, from, map, of, Subscription, take, type Observable, type SchedulerLike } from 'rxjs';
import type { Dialect } from '../config/PiConfig.js';
import { PiStartError } from '../errors.js';
import { capabilitiesOf, type Capabilities } from '../protocol/dialects.js';
import type { FrameOf } from '../protocol/frames.js';
import { RpcChunkAssembler, type ChunkOutcome } from '../protocol/RpcChunkAssembler.js';
import { longTimer } from '../rx/longTimer.js';

/** Options of {@link WireDialect}. @internal */
export interface WireDialectOptions {
  /** The dialect and version known before the first frame (detected, or configured). */
  readonly dialect: Dialect;
  readonly version: string | undefined;
  readonly scheduler: SchedulerLike;
  /** How long start() waits for omp's `ready`. */
  readonly startTimeoutMs: number;
  readonly stderrTail: () => string;
}

/**
 * Where the dialects differ on the wire: which pi this is (the wire corrects a guess: omp's
 * `ready`, pi 1.x's `agent_settled`), omp's `ready` handshake and protocol-v2 negotiation, the
 * reassembly of v2 chunks, and whether this pi says itself when a run is settled. (What ends a
 * run, given the dialect, is `reduceRun`'s.)
 *
 * @internal
 */
export class WireDialect {
  readonly #options: WireDialectOptions;
  #chunks = new RpcChunkAssembler();
  #timers = new Subscription();
  #capabilities: Capabilities;
  #protocolVersion = 1;
  /** An `agent_settled`, or a `prompt_result` for an agent run, was seen: this pi ends its runs itself. */
  #settledSignalSeen = false;
  /** omp's `ready` frame, once it came (a promise while start() waits for it). */
  #ready: Promise<FrameOf<'ready'>> | undefined;
  #resolveReady: ((frame: FrameOf<'ready'>) => void) | undefined;

  constructor(options: WireDialectOptions) {
    this.#options = options;
    this.#capabilities = capabilitiesOf(options.dialect, options.version);
  }

  get capabilities(): Capabilities {
    return this.#capabilities;
  }

  get protocolVersion(): number {
    return this.#protocolVersion;
  }

  /** This pi says when a run is settled (seen on the wire, or known from its version): no state checks. */
  get endsRunsItself(): boolean {
    const caps = this.#capabilities;
    return this.#settledSignalSeen || (caps.version !== undefined && (caps.agentSettled || caps.promptResult));
  }

  /** A transport that spawned (or replays) a known pi says which one. */
  know(dialect: Dialect, version: string | undefined): void {
    const caps = this.#capabilities;
    this.#capabilities = capabilitiesOf(dialect, version ?? (dialect === caps.dialect ? caps.version : undefined));
  }

  /** The wire shows which pi this is: adopt it. */
  learn(dialect: Dialect): void {
    if (this.#capabilities.dialect === dialect) return;
    this.#capabilities = capabilitiesOf(dialect);
  }

  /** A run-end signal of its own came (`agent_settled`; `prompt_result` of an agent run). */
  sawSettledSignal(): void {
    this.#settledSignalSeen = true;
  }

  /** What a prompt's answer tells of the dialect (pi 1.x `disposition`, omp `agentInvoked`). */
  learnFromPromptAnswer(data: unknown): void {
    const fields = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
    if (typeof fields['disposition'] === 'string') this.learn('pi-1');
    if (typeof fields['agentInvoked'] === 'boolean') this.learn('omp');
  }

  /** omp's `ready` frame: it is omp, whatever was guessed. */
  onReady(frame: FrameOf<'ready'>): void {
    this.learn('omp');
    if (this.#resolveReady) this.#resolveReady(frame);
    else this.#ready ??= Promise.resolve(frame);
    this.#resolveReady = undefined;
  }

  /**
   * After start()'s first answer: on a dialect with a `ready` frame (omp writes it before it
   * answers anything), wait for it (bounded like the start) and negotiate protocol v2 when it is
   * offered, as omp's own clients do, so frames over 1 MiB arrive losslessly as `rpc_chunk`s
   * instead of being shrunk. A refusal leaves v1. Then, where the dialect has subagents (omp),
   * ask for their frames (`set_subagent_subscription`, level `events`): they become the
   * `subagent_*` events. An omp that refuses it still starts (its subagents go unreported).
   *
   * @param request$ Sends a command; emits its data.
   */
  handshake$(request$: (command: { readonly type: string; readonly [field: string]: unknown }) => Observable<unknown>): Observable<void> {
    if (!this.#capabilities.readyFrame) return of(undefined);
    return from(this.#readyFrame()).pipe(
      concatMap((ready) => {
        if (this.#protocolVersion === 2 || !(ready.supportedProtocolVersions ?? []).includes(2)) return of(undefined);
        return request$({ type: 'negotiate_protocol', protocolVersion: 2 }).pipe(
          map((data) => {
            if ((data as { protocolVersion?: unknown } | undefined)?.protocolVersion === 2) this.#protocolVersion = 2;
          }),
          // stays on v1: oversize frames are shrunk by omp (or replaced by rpc_frame_error), never lost silently
          catchError(() => of(undefined)),
        );
      }),
      concatMap(() => this.#subscribeToSubagents$(request$)),
      defaultIfEmpty(undefined),
      take(1),
    );
  }

  /**
   * omp reports what its subagents do only to a client that asks: `events` is every frame
   * (lifecycle, progress, and each event of their own sessions). A refusal (an omp without
   * subagents over RPC, or without its event bus) is ignored.
   */
  #subscribeToSubagents$(request$: (command: { readonly type: string; readonly [field: string]: unknown }) => Observable<unknown>): Observable<void> {
    if (!this.#capabilities.subagents) return of(undefined);
    return request$({ type: 'set_subagent_subscription', level: 'events' }).pipe(
      map(() => undefined),
      catchError(() => of(undefined)),
      defaultIfEmpty(undefined),
    );
  }

  /** Protocol v2: a chunk in; a whole frame's line out when it is complete. */
  reassemble(frame: FrameOf<'rpc_chunk'>): ChunkOutcome {
    return this.#chunks.push(frame);
  }

  /**
   * A new process of the same pi replaces the one that died (`restart`): its `ready`, protocol
   * negotiation and chunks start over; what the wire taught about the dialect stays.
   */
  respawned(): void {
    this.#timers.unsubscribe();
    this.#timers = new Subscription();
    this.#chunks = new RpcChunkAssembler();
    this.#protocolVersion = 1;
    this.#ready = undefined;
    this.#resolveReady = undefined;
  }

  /** The session is over: stops the `ready` timer. */
  close(): void {
    this.#timers.unsubscribe();
  }

  #readyFrame(): Promise<FrameOf<'ready'>> {
    this.#ready ??= new Promise<FrameOf<'ready'>>((resolve, reject) => {
      const { startTimeoutMs, scheduler, stderrTail } = this.#options;
      const timeout = longTimer(startTimeoutMs, scheduler).subscribe(() =>
        reject(new PiStartError(`omp sent no ready frame within ${startTimeoutMs} ms`, { stderrTail: stderrTail() })),
      );
      this.#timers.add(timeout);
      this.#resolveReady = (frame) => {
        timeout.unsubscribe();
        resolve(frame);
      };
    });
    return this.#ready;
  }
}
