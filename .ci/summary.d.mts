/** Types of .ci/summary.mjs, for spec/ci/summary.spec.ts. */
export declare const OPTIONAL_SKIPS: readonly string[];
export declare function summarize(
  report: unknown,
  exitStatus: number,
  options?: { readonly root?: string; readonly optional?: readonly string[] },
): { passed: number; failed: number; skipped: number; notes: string[] };
