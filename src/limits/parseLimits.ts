import type * as z from 'zod';
import { PiConfigError } from '../errors.js';

/** `T` without `undefined` in its optional fields (what `exactOptionalPropertyTypes` wants). */
export type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };

/**
 * Validates limits a user passed with one of the limit schemas (a run's, a budget's), and names
 * the offending field in the error the way `PiConfig` does.
 *
 * @param schema A strict object schema of optional limits.
 * @param limits What the user passed; `undefined` is `{}`.
 * @param field Where it was passed (`limits`), the prefix of every path in the error.
 * @return The limits, without their `undefined` fields.
 * @throws {PiConfigError} naming the first bad field (`limits.maxTurns`) and listing every one in `issues`.
 * @internal
 */
export function parseLimits<T extends object>(schema: z.ZodType<T>, limits: unknown, field: string): Defined<T> {
  const result = schema.safeParse(limits === undefined ? {} : limits);
  if (result.success) return Object.fromEntries(Object.entries(result.data).filter(([, value]) => value !== undefined)) as Defined<T>;
  const issues = result.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: `${field}.${key}`, message: 'is not a limit (unknown field)' }));
    const [key] = issue.path;
    if (key === undefined) return [{ path: field, message: `must be an object, got ${shown(limits)}` }];
    const value = (limits as Record<PropertyKey, unknown>)[key];
    return [{ path: `${field}.${String(key)}`, message: `${issue.message}, got ${shown(value)}` }];
  });
  const first = issues[0] ?? { path: field, message: 'is invalid' };
  throw new PiConfigError(`Invalid ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, { field: first.path, issues });
}

/** A value as the error message shows it. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === undefined) return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
