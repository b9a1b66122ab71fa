/**
 * How a user marble-tests their own policy: no pi, no network, virtual time.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { allow, deny } from 'pidriver';
import { fakePolicyRequest } from 'pidriver/testing';
import { safeCiPolicy } from './policies.js';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('safeCiPolicy', () => {
  it('allows reads, denies rm and other writes', () => {
    const read = fakePolicyRequest('permission', { toolName: 'read', args: { path: 'a.txt' } });
    const rm = fakePolicyRequest('permission', { toolName: 'bash', args: { command: 'rm -rf /' } });
    const echo = fakePolicyRequest('permission', { toolName: 'bash', args: { command: 'echo hi' } });

    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const requests = cold('-a-b-c|', { a: read, b: rm, c: echo });
      expectObservable(requests.pipe(safeCiPolicy)).toBe('-A-B-C|', {
        A: { requestId: read.request.requestId, decision: allow() },
        B: { requestId: rm.request.requestId, decision: deny('tool bash is not allowed') },
        C: { requestId: echo.request.requestId, decision: deny('CI policy: this tool is not allowed unattended') },
      });
      expectSubscriptions(requests.subscriptions).toBe('^-----!');
    });
  });
});
