/**
 * @internal Runs a user predicate; a throw becomes `{ error }` instead of escaping into the stream.
 */
export function safePredicate<A extends unknown[]>(predicate: (...args: A) => boolean, ...args: A): { readonly ok: boolean; readonly error?: unknown } {
  try {
    return { ok: predicate(...args) };
  } catch (error) {
    return { ok: false, error };
  }
}
