import { describe, expect, it } from 'vitest';
import * as policies from '../../src/policies/index.js';

describe('policies barrel', () => {
  it('exports the whole API by name', () => {
    expect(Object.keys(policies).sort()).toEqual(
      [
        'allow',
        'allowAlways',
        'allowTools',
        'answer',
        'askHost',
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
        'rememberAlways',
        'timeoutDecision',
        'toUiResponse',
      ].sort(),
    );
  });
});
