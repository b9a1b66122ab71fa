import { describe, expect, it } from 'vitest';
import { attachPolicyContext, policyContext, withPolicyContext } from '../../src/policies/context.js';
import * as policies from '../../src/policies/index.js';
import { fakeSession, permission } from '../helpers/requests.js';

describe('policy context', () => {
  it('defaults to a signal that never aborts, and no session', () => {
    const context = policyContext(permission());
    expect(context.signal.aborted).toBe(false);
    expect(context.session).toBeUndefined();
  });

  it('returns what the session attached, keyed by the request object', () => {
    const request = permission();
    const controller = new AbortController();
    attachPolicyContext(request, { signal: controller.signal, session: fakeSession });
    expect(policyContext(request)).toEqual({ signal: controller.signal, session: fakeSession });
    expect(policyContext({ ...request }).signal).not.toBe(controller.signal); // a copy has none
    const replaced = new AbortController();
    attachPolicyContext(request, { signal: replaced.signal });
    expect(policyContext(request).signal).toBe(replaced.signal);
  });

  it('withPolicyContext attaches and returns the same request', () => {
    const request = permission();
    const controller = new AbortController();
    expect(withPolicyContext(request, { signal: controller.signal })).toBe(request);
    expect(policyContext(request).signal).toBe(controller.signal);
  });
});

describe('policies barrel', () => {
  it('exports the whole API by name', () => {
    expect(Object.keys(policies).sort()).toEqual(
      [
        'allow',
        'allowAlways',
        'allowTools',
        'answer',
        'askHost',
        'attachPolicyContext',
        'auditLog',
        'autoApprove',
        'byKind',
        'cancel',
        'chain',
        'coerceDecision',
        'decisionTimeout$',
        'defer',
        'deny',
        'denyAll',
        'denyTools',
        'isDecision',
        'policyContext',
        'rememberAlways',
        'timeoutDecision',
        'toUiResponse',
        'withPolicyContext',
      ].sort(),
    );
  });
});
