import { describe, expect, it } from 'vitest';
import { PiPolicyError } from '../../src/errors.js';
import { allow, allowAlways, answer, cancel, defer, deny } from '../../src/policies/decisions.js';
import { toUiResponse } from '../../src/policies/toUiResponse.js';
import type { Decision } from '../../src/policies/types.js';
import { ExtensionUiResponseSchema } from '../../src/protocol/commands.js';
import type { InteractionRequest } from '../../src/protocol/events.js';
import { makeRequest } from '../helpers/requests.js';

const ours = makeRequest('permission', { requestId: 'ours' });
const omp = makeRequest('permission', { requestId: 'omp', options: ['Approve', 'Deny'] });
const confirm = makeRequest('permission', { requestId: 'conf', method: 'confirm', options: [] });
const choice = makeRequest('choice', { requestId: 'choice' });
const question = makeRequest('question', { requestId: 'q' });
const input = makeRequest('input', { requestId: 'in' });
const editor = makeRequest('editor', { requestId: 'ed' });

function wire(request: InteractionRequest, decision: Decision): unknown {
  const response = toUiResponse(request, decision);
  ExtensionUiResponseSchema.parse(response); // exactly the extension_ui_response wire shape
  return response;
}

function rejects(request: InteractionRequest, decision: Decision, reason: RegExp): void {
  expect(() => toUiResponse(request, decision)).toThrow(PiPolicyError);
  expect(() => toUiResponse(request, decision)).toThrow(reason);
}

const response = (id: string, fields: object): object => ({ type: 'extension_ui_response', id, ...fields });

describe('toUiResponse', () => {
  it('answers a confirm with confirmed true/false', () => {
    expect(wire(confirm, allow())).toEqual(response('conf', { confirmed: true }));
    expect(wire(confirm, allowAlways())).toEqual(response('conf', { confirmed: true }));
    expect(wire(confirm, deny('dropped'))).toEqual(response('conf', { confirmed: false }));
    expect(wire(confirm, cancel())).toEqual(response('conf', { cancelled: true }));
  });

  it('answers our approval select with its option labels, and a deny message', () => {
    expect(wire(ours, allow())).toEqual(response('ours', { value: 'Approve' }));
    expect(wire(ours, allowAlways())).toEqual(response('ours', { value: 'Approve always' }));
    expect(wire(ours, deny())).toEqual(response('ours', { value: 'Deny' }));
    expect(wire(ours, deny('not in prod'))).toEqual(response('ours', { value: 'Deny: not in prod' }));
    expect(wire(ours, answer('Approve'))).toEqual(response('ours', { value: 'Approve' }));
    expect(wire(ours, cancel())).toEqual(response('ours', { cancelled: true }));
  });

  it("answers omp's approval select with plain labels (no always, no message)", () => {
    expect(wire(omp, allow())).toEqual(response('omp', { value: 'Approve' }));
    expect(wire(omp, allowAlways())).toEqual(response('omp', { value: 'Approve' }));
    expect(wire(omp, deny())).toEqual(response('omp', { value: 'Deny' }));
    expect(wire(omp, deny('ignored by omp'))).toEqual(response('omp', { value: 'Deny' }));
    expect(wire(omp, cancel())).toEqual(response('omp', { cancelled: true }));
  });

  it('answers a choice with one of its options', () => {
    expect(wire(choice, answer('green'))).toEqual(response('choice', { value: 'green' }));
    expect(wire(choice, cancel())).toEqual(response('choice', { cancelled: true }));
  });

  it('answers input and editor with the text', () => {
    expect(wire(question, answer('blue'))).toEqual(response('q', { value: 'blue' }));
    expect(wire(input, answer(''))).toEqual(response('in', { value: '' }));
    expect(wire(editor, answer('line 1\nline 2'))).toEqual(response('ed', { value: 'line 1\nline 2' }));
    expect(wire(editor, cancel())).toEqual(response('ed', { cancelled: true }));
  });

  it('throws for defer: a deferred request has no wire answer', () => {
    for (const request of [ours, confirm, choice, question, editor]) rejects(request, defer(), /has no wire answer/);
  });

  it('throws for decisions that do not fit the dialog', () => {
    rejects(confirm, answer('yes'), /a confirm dialog takes allow or deny/);
    rejects(choice, allow(), /not an approval/);
    rejects(choice, allowAlways(), /not an approval/);
    rejects(choice, deny('x'), /not an approval/);
    rejects(choice, answer('purple'), /"purple" is not one of its options/);
    rejects(ours, answer('Maybe'), /not one of its options/);
    for (const request of [question, input, editor]) {
      for (const decision of [allow(), allowAlways(), deny()]) rejects(request, decision, /takes an answer or cancel/);
    }
  });
});
