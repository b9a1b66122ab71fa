import { describe, expect, it } from 'vitest';
import { PiPolicyError, isPiDriverError } from '../../src/errors.js';
import { allow, allowAlways, answer, cancel, coerceDecision, defer, deny, isDecision } from '../../src/policies/decisions.js';
import type { DecisionInput } from '../../src/policies/types.js';
import { makeRequest } from '../helpers/requests.js';

const approval = makeRequest('permission', { requestId: 'perm' });
const omp = makeRequest('permission', { requestId: 'omp', options: ['Approve', 'Deny'] });
const confirm = makeRequest('permission', { requestId: 'conf', method: 'confirm', options: [] });
const extra = makeRequest('permission', { requestId: 'extra', options: ['Approve', 'Deny', 'Approve for this run'] });
const choice = makeRequest('choice', { requestId: 'choice' });
const question = makeRequest('question', { requestId: 'q' });
const input = makeRequest('input', { requestId: 'in' });
const editor = makeRequest('editor', { requestId: 'ed' });
const freeText = [question, input, editor];

function rejects(request: typeof approval, value: unknown, reason: RegExp): void {
  let caught: unknown;
  try {
    coerceDecision(request, value as DecisionInput);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PiPolicyError);
  expect(isPiDriverError(caught)).toBe(true);
  expect((caught as PiPolicyError).requestId).toBe(request.requestId);
  expect((caught as PiPolicyError).code).toBe('PI_POLICY');
  expect((caught as PiPolicyError).message).toMatch(reason);
}

describe('decision constructors', () => {
  it('build frozen decisions', () => {
    for (const decision of [allow(), allowAlways(), deny(), deny('why'), answer('x'), cancel(), defer()]) {
      expect(Object.isFrozen(decision)).toBe(true);
    }
    expect(allow()).toEqual({ kind: 'allow' });
    expect(allowAlways()).toEqual({ kind: 'allowAlways' });
    expect(deny()).toEqual({ kind: 'deny' });
    expect('message' in deny()).toBe(false);
    expect(deny('nope')).toEqual({ kind: 'deny', message: 'nope' });
    expect(answer('blue')).toEqual({ kind: 'answer', value: 'blue' });
    expect(cancel()).toEqual({ kind: 'cancel' });
    expect(defer()).toEqual({ kind: 'defer' });
  });

  it('isDecision accepts well-formed decisions only', () => {
    for (const decision of [allow(), allowAlways(), deny(), deny('m'), answer(''), cancel(), defer()]) {
      expect(isDecision(decision)).toBe(true);
    }
    for (const value of [
      undefined,
      null,
      true,
      'allow',
      1,
      {},
      { kind: 'maybe' },
      { kind: 'answer' },
      { kind: 'answer', value: 1 },
      { kind: 'deny', message: 2 },
    ]) {
      expect(isDecision(value)).toBe(false);
    }
  });
});

describe('coerceDecision', () => {
  describe('undefined', () => {
    it('cancels every kind', () => {
      for (const request of [approval, confirm, choice, ...freeText]) expect(coerceDecision(request, undefined)).toEqual(cancel());
    });
  });

  describe('booleans', () => {
    it('allow / deny a permission', () => {
      expect(coerceDecision(approval, true)).toEqual(allow());
      expect(coerceDecision(confirm, false)).toEqual(deny());
    });
    it('are rejected for every other kind', () => {
      for (const request of [choice, ...freeText]) {
        rejects(request, true, /true\/false only answer a permission/);
        rejects(request, false, /true\/false only answer a permission/);
      }
    });
  });

  describe('strings', () => {
    it('name an approval option of a permission', () => {
      expect(coerceDecision(approval, 'Approve')).toEqual(allow());
      expect(coerceDecision(approval, 'Approve always')).toEqual(allowAlways());
      expect(coerceDecision(approval, 'Deny')).toEqual(deny());
      expect(coerceDecision(omp, 'Approve')).toEqual(allow());
      expect(coerceDecision(omp, 'Deny')).toEqual(deny());
    });
    it('answer with another option of a permission as that label', () => {
      expect(coerceDecision(extra, 'Approve for this run')).toEqual(answer('Approve for this run'));
    });
    it('are rejected for a permission unless they name an option', () => {
      rejects(approval, 'yes', /"yes" is not one of its options/);
      rejects(omp, 'Approve always', /not one of its options/);
      rejects(approval, 'approve', /not one of its options/);
      rejects(confirm, 'Approve', /it has none/);
    });
    it('must equal an option of a choice', () => {
      expect(coerceDecision(choice, 'green')).toEqual(answer('green'));
      rejects(choice, 'purple', /"purple" is not one of its options \(options are "red", "green", "blue"\)/);
      rejects(choice, '', /not one of its options/);
    });
    it('are the free-text answer of a question, input or editor', () => {
      for (const request of freeText) {
        expect(coerceDecision(request, 'blue')).toEqual(answer('blue'));
        expect(coerceDecision(request, '')).toEqual(answer(''));
      }
    });
  });

  describe('numbers', () => {
    it('pick the option at that index of a choice', () => {
      expect(coerceDecision(choice, 0)).toEqual(answer('red'));
      expect(coerceDecision(choice, 2)).toEqual(answer('blue'));
    });
    it('are rejected out of range or not integers', () => {
      for (const index of [-1, 3, 1.5, Number.NaN, Infinity]) rejects(choice, index, /is not an integer from 0 to 2/);
    });
    it('are rejected for every other kind', () => {
      for (const request of [approval, confirm, ...freeText]) rejects(request, 0, /only answers a choice/);
    });
  });

  describe('decisions', () => {
    it('allow, allowAlways and deny pass through for a permission', () => {
      expect(coerceDecision(approval, allow())).toEqual(allow());
      expect(coerceDecision(confirm, allowAlways())).toEqual(allowAlways());
      expect(coerceDecision(approval, deny('why'))).toEqual(deny('why'));
      expect(coerceDecision(approval, deny())).toEqual(deny());
    });
    it('allow, allowAlways and deny are rejected for other kinds', () => {
      for (const request of [choice, ...freeText]) {
        for (const decision of [allow(), allowAlways(), deny('x')]) rejects(request, decision, /only answers a permission/);
      }
    });
    it('answer must be an option of a permission or a choice', () => {
      expect(coerceDecision(approval, answer('Deny'))).toEqual(answer('Deny'));
      expect(coerceDecision(choice, answer('red'))).toEqual(answer('red'));
      rejects(approval, answer('Sure'), /answer "Sure" is not one of its options/);
      rejects(confirm, answer('yes'), /it has none/);
      rejects(choice, answer('Red'), /answer "Red" is not one of its options/);
    });
    it('answer passes through for free-text kinds', () => {
      for (const request of freeText) expect(coerceDecision(request, answer('anything'))).toEqual(answer('anything'));
    });
    it('cancel and defer pass through for every kind', () => {
      for (const request of [approval, confirm, choice, ...freeText]) {
        expect(coerceDecision(request, cancel())).toBe(cancel());
        expect(coerceDecision(request, defer())).toBe(defer());
      }
    });
    it('returns frozen decisions, without foreign fields', () => {
      const loose = { kind: 'deny', message: 'm', extra: 1 } as unknown as DecisionInput;
      const coerced = coerceDecision(approval, loose);
      expect(coerced).toEqual(deny('m'));
      expect(Object.isFrozen(coerced)).toBe(true);
    });
  });

  describe('anything else', () => {
    it('is rejected', () => {
      rejects(approval, null, /null is neither a Decision/);
      rejects(choice, { kind: 'maybe' }, /an object is neither a Decision/);
      rejects(question, { kind: 'answer', value: 3 }, /an object is neither/);
      rejects(approval, Symbol('x'), /a symbol is neither/);
    });
  });
});
