import { afterEach, vi } from 'vitest';

// Stray console output in tests usually means a swallowed error: fail the test (zod's setup does the same).
const fail = (method: string) => (...args: unknown[]) => {
  throw new Error(`unexpected console.${method}: ${args.map(String).join(' ')}`);
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

afterEach(async () => {
  vi.restoreAllMocks();
  // Node reports a rejection once the microtask queue drains; RxJS rethrows in a timer(0).
  await new Promise<void>((resolve) => realSetImmediate(resolve));
  await new Promise<void>((resolve) => realSetTimeout(resolve, 0));
  const seen = unhandled.splice(0);
  if (seen.length > 0) {
    const described = seen.map(({ kind, reason }) => `${kind}: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
    throw new Error(`${seen.length} unhandled error(s) during this test:\n${described.join('\n')}`);
  }
});

vi.spyOn(console, 'warn').mockImplementation(fail('warn'));
vi.spyOn(console, 'error').mockImplementation(fail('error'));
