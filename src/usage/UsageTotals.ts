/** Plain-object form of {@link UsageTotals}, as produced by `toJSON()`. */
export interface UsageTotalsJSON {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  readonly totalTokens: number;
  readonly costUsd: number;
}

/** The `usage` block pi puts on every assistant message (`pi-ai` `Usage`). */
export interface AssistantUsageLike {
  readonly input?: number | null | undefined;
  readonly output?: number | null | undefined;
  readonly cacheRead?: number | null | undefined;
  readonly cacheWrite?: number | null | undefined;
  readonly cost?: { readonly total?: number | null | undefined } | null | undefined;
}

/** The `get_session_stats` response `data` (only the fields used here). */
export interface SessionStatsLike {
  readonly tokens?:
    | {
        readonly input?: number | null | undefined;
        readonly output?: number | null | undefined;
        readonly cacheRead?: number | null | undefined;
        readonly cacheWrite?: number | null | undefined;
      }
    | null
    | undefined;
  readonly cost?: number | null | undefined;
}

const num = (value: number | null | undefined): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/**
 * An immutable token and cost tally. It normalises pi's two usage shapes (a per-message
 * `usage` block and `get_session_stats`) into one value that adds up.
 *
 * ```ts
 * const total = UsageTotals.fromAssistantUsage(a).add(UsageTotals.fromSessionStats(b));
 * total.totalTokens; // input + output + cacheRead + cacheWrite
 * ```
 */
export class UsageTotals {
  static readonly ZERO: UsageTotals = new UsageTotals();

  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  readonly costUsd: number;

  constructor(fields: Partial<Omit<UsageTotalsJSON, 'totalTokens'>> = {}) {
    this.inputTokens = num(fields.inputTokens);
    this.outputTokens = num(fields.outputTokens);
    this.cacheReadTokens = num(fields.cacheReadTokens);
    this.cacheWriteTokens = num(fields.cacheWriteTokens);
    this.costUsd = num(fields.costUsd);
    Object.freeze(this);
  }

  /** From the `usage` block of an assistant message (`input` excludes cached tokens in pi). */
  static fromAssistantUsage(usage: AssistantUsageLike | null | undefined): UsageTotals {
    if (!usage) return UsageTotals.ZERO;
    return new UsageTotals({
      inputTokens: num(usage.input),
      outputTokens: num(usage.output),
      cacheReadTokens: num(usage.cacheRead),
      cacheWriteTokens: num(usage.cacheWrite),
      costUsd: num(usage.cost?.total),
    });
  }

  /** From a `get_session_stats` response's `data`. */
  static fromSessionStats(stats: SessionStatsLike | null | undefined): UsageTotals {
    if (!stats) return UsageTotals.ZERO;
    return new UsageTotals({
      inputTokens: num(stats.tokens?.input),
      outputTokens: num(stats.tokens?.output),
      cacheReadTokens: num(stats.tokens?.cacheRead),
      cacheWriteTokens: num(stats.tokens?.cacheWrite),
      costUsd: num(stats.cost),
    });
  }

  /** Rebuilds a value from {@link toJSON} output (e.g. after it crossed a network). */
  static fromJSON(json: Partial<UsageTotalsJSON>): UsageTotals {
    return new UsageTotals(json);
  }

  /** `inputTokens + outputTokens + cacheReadTokens + cacheWriteTokens`. */
  get totalTokens(): number {
    return this.inputTokens + this.outputTokens + this.cacheReadTokens + this.cacheWriteTokens;
  }

  /** True when every field is zero. */
  get isZero(): boolean {
    return this.totalTokens === 0 && this.costUsd === 0;
  }

  /** The sum of this and `other`. */
  add(other: UsageTotals): UsageTotals {
    if (other.isZero) return this;
    if (this.isZero) return other;
    return new UsageTotals({
      inputTokens: this.inputTokens + other.inputTokens,
      outputTokens: this.outputTokens + other.outputTokens,
      cacheReadTokens: this.cacheReadTokens + other.cacheReadTokens,
      cacheWriteTokens: this.cacheWriteTokens + other.cacheWriteTokens,
      costUsd: this.costUsd + other.costUsd,
    });
  }

  /** A copy with the cost replaced (stats may lack a cost). */
  withCost(costUsd: number): UsageTotals {
    return new UsageTotals({ ...this.toJSON(), costUsd });
  }

  equals(other: UsageTotals): boolean {
    return (
      this.inputTokens === other.inputTokens &&
      this.outputTokens === other.outputTokens &&
      this.cacheReadTokens === other.cacheReadTokens &&
      this.cacheWriteTokens === other.cacheWriteTokens &&
      this.costUsd === other.costUsd
    );
  }

  toJSON(): UsageTotalsJSON {
    return {
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      cacheReadTokens: this.cacheReadTokens,
      cacheWriteTokens: this.cacheWriteTokens,
      totalTokens: this.totalTokens,
      costUsd: this.costUsd,
    };
  }

  toString(): string {
    return `UsageTotals(in=${this.inputTokens}, out=${this.outputTokens}, cacheRead=${this.cacheReadTokens}, cacheWrite=${this.cacheWriteTokens}, cost=$${this.costUsd.toFixed(6)})`;
  }
}
