import { afterEach, vi } from 'vitest';

// Stray console output in tests usually means a swallowed error: fail the test (zod's setup does the same).
const fail = (method: string) => (...args: unknown[]) => {
  throw new Error(`unexpected console.${method}: ${args.map(String).join(' ')}`);
};

afterEach(() => {
  vi.restoreAllMocks();
});

vi.spyOn(console, 'warn').mockImplementation(fail('warn'));
vi.spyOn(console, 'error').mockImplementation(fail('error'));
