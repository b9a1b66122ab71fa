/** @internal Gives a function a debuggable `name` (as redux-observable's `combineEpics` does). */
export function named<F extends (...args: never[]) => unknown>(name: string, fn: F): F {
  Object.defineProperty(fn, 'name', { value: name, configurable: true });
  return fn;
}
