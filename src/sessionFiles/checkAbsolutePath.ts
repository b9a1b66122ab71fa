import { isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { PiConfigError } from '../errors.js';

const AbsolutePathSchema = z
  .string('must be a string')
  .min(1, 'must not be empty')
  .refine((path) => !path.includes('\0'), 'must not contain a NUL byte')
  .refine(isAbsolute, 'must be an absolute path');

/**
 * Checks a path given as an option: a non-empty string, absolute, without a NUL byte.
 *
 * @param field The option's name, for the error.
 * @param value The option's value.
 * @return The path, normalised (`path.resolve`: no `..`, no trailing separator).
 * @throws {PiConfigError} naming `field` when the value is not such a path.
 */
export function checkAbsolutePath(field: string, value: unknown): string {
  const result = AbsolutePathSchema.safeParse(value);
  if (result.success) return resolve(result.data);
  const message = result.error.issues[0]?.message ?? 'must be an absolute path';
  throw new PiConfigError(`${field} ${message}`, { field });
}
