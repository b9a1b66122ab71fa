import { afterEach, beforeEach, vi } from 'vitest';

// Stray console output in tests usually means a swallowed error: fail the test (zod's setup does the same).
// The guards are plain functions, not `vi.spyOn` spies, so the `vi.restoreAllMocks()` below leaves
// them in place: they hold for every test of a file, not only the first. A test that expects
// output stubs it locally (`vi.spyOn(console, 'warn').mockImplementation(() => undefined)`); the
// restore puts the guard back. A guard both throws (so the stack names the caller) and records
// the call, so a test fails even when the code under test swallows that throw.
const stray: string[] = [];
const guard = (method: 'warn' | 'error') =>
  function consoleGuard(...args: unknown[]): void {
    const message = `unexpected console.${method}: ${args.map(String).join(' ')}`;
    stray.push(message);
    throw new Error(message);
  };
const guards = { warn: guard('warn'), error: guard('error') };
const installGuards = (): void => {
  console.warn = guards.warn;
  console.error = guards.error;
};

// Vitest already fails the *run* on an unhandled rejection or uncaught exception, but reports it
// apart from any test. Collect them too and fail the test during which they surfaced, so the
// report names it. (spec/reliability/fakePi.ts `collectUnhandled()` swaps these listeners out
// for a file that asserts on them itself, and restores them after.)
const unhandled: { kind: string; reason: unknown }[] = [];
// Captured now, so a test that installs fake timers can't stall this hook.
const { setImmediate: realSetImmediate, setTimeout: realSetTimeout } = globalThis;
process.on('unhandledRejection', (reason) => unhandled.push({ kind: 'unhandled rejection', reason }));
process.on('uncaughtException', (reason) => unhandled.push({ kind: 'uncaught exception', reason }));

installGuards();
beforeEach(() => {
  // Also covers a test that assigned `console.warn = …` itself instead of spying.
  installGuards();
  stray.length = 0;
});

afterEach(async () => {
  vi.restoreAllMocks();
  // Node reports a rejection once the microtask queue drains; RxJS rethrows in a timer(0).
  await new Promise<void>((resolve) => realSetImmediate(resolve));
  await new Promise<void>((resolve) => realSetTimeout(resolve, 0));
  const seen = unhandled.splice(0);
  const printed = stray.splice(0);
  installGuards();
  if (seen.length > 0) {
    const described = seen.map(({ kind, reason }) => `${kind}: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
    throw new Error(`${seen.length} unhandled error(s) during this test:\n${described.join('\n')}`);
  }
  if (printed.length > 0) throw new Error(`${printed.length} stray console call(s) during this test:\n${printed.join('\n')}`);
});
