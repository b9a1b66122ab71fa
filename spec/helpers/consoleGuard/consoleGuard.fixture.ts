// Not a spec: spec/helpers/setup.spec.ts runs this file in a child vitest and checks which tests fail.
import { expect, it, vi } from 'vitest';

it('1 prints nothing', () => {
  expect(1).toBe(1);
});

it('2 warns', () => {
  console.warn('second test');
});

it('3 logs an error that the code under test swallows', () => {
  try {
    console.error('swallowed');
  } catch {
    // the code under test hides the guard's throw
  }
});

it('4 stubs console.warn locally and warns', () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  console.warn('expected');
  expect(warn).toHaveBeenCalledWith('expected');
});

it('5 warns after a test that stubbed console.warn', () => {
  console.warn('fifth test');
});
