/**
 * `setPolicy()` on an InteractionDesk, in virtual time: later requests go to the new policy, the
 * old one is unsubscribed, open requests are offered to the new one (those the old one was
 * deciding, and those it left to the host), the first answer wins exactly once, a new policy
 * fails closed, the default policy's safeguard follows the switch, and re-entrant switches lose
 * nothing.
 *
 * Frames: pi's dialogs (`desk.open`), switches and `respond()` calls are scheduled at a frame with
 * {@link at}; the desk's writes to pi (`r1 allow`), its events (`r1 policy`: an
 * `interaction_request` with `handledBy: 'policy'`) and `pending$` are asserted with marbles.
 */
import { EMPTY, finalize, ignoreElements, map, merge, mergeMap, NEVER, of, Subject, VirtualTimeScheduler, type Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PiConfigError } from '../../src/errors.js';
import { askHost } from '../../src/policies/askHost.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { allow, defer, deny } from '../../src/policies/decisions.js';
import { denyAll } from '../../src/policies/denyAll.js';
import { timeoutDecision } from '../../src/policies/timeoutDecision.js';
import type { Decision, DecisionInput, Policy, PolicyAnswer, PolicyRequest } from '../../src/policies/types.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { InteractionDesk, type RequestFields } from '../../src/session/InteractionDesk.js';
import { SessionEvents } from '../../src/session/SessionEvents.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const confirm = (requestId: string): RequestFields => ({
  type: 'interaction_request',
  requestId,
  kind: 'permission',
  method: 'confirm',
  prompt: { title: 'Allow tool: bash', message: 'x' },
  options: [],
  toolName: 'bash',
});

const question = (requestId: string): RequestFields => ({
  type: 'interaction_request',
  requestId,
  kind: 'question',
  method: 'input',
  prompt: { title: 'Favourite colour?', message: '' },
  options: [],
});

/** A write to pi, in short: `r1 allow`, `r1 deny`, `r1 cancel`, `r1 = blue`. */
function written(command: object): string {
  const { id, confirmed, cancelled, value } = command as { id: string; confirmed?: boolean; cancelled?: boolean; value?: string };
  if (cancelled === true) return `${id} cancel`;
  if (confirmed !== undefined) return `${id} ${confirmed ? 'allow' : 'deny'}`;
  return `${id} = ${String(value)}`;
}

/** An event, in short: `r1 policy` / `r1 host` (an `interaction_request` and who handles it), `error policy_error`. */
function seen(event: PiEvent): string {
  if (event.type === 'interaction_request') return `${event.requestId} ${event.handledBy ?? '?'}`;
  if (event.type === 'error') return `error ${event.code}`;
  return event.type;
}

interface Harness {
  readonly desk: InteractionDesk;
  /** What the desk wrote to pi. */
  readonly written$: Observable<string>;
  /** What it published on `events$`. */
  readonly events$: Observable<string>;
  /** `pending$`, as the ids joined with commas (subscribing counts as watching). */
  readonly pending$: Observable<string>;
  /** Called with each published event, after it is recorded (a subscriber that may re-enter). */
  onEvent: (event: PiEvent) => void;
}

/**
 * A started desk whose policy is `policy`. Its own timers (pi's dialog timeouts, the unanswered
 * warning) run on a scheduler never flushed; the policies' timers run in the TestScheduler's
 * virtual time.
 */
function harness(policy: Policy, options: { readonly defaultPolicy?: boolean; readonly start?: boolean } = {}): Harness {
  const writes = new Subject<string>();
  const published = new Subject<string>();
  const events = new SessionEvents('s1', { maxEvents: 100, maxBytes: 1e6 });
  const session = { sessionId: 's1', pending: [], respond: () => Promise.resolve(), abort: () => Promise.resolve() };
  const desk = new InteractionDesk({
    sessionId: 's1',
    policy,
    defaultPolicy: options.defaultPolicy ?? false,
    scheduler: new VirtualTimeScheduler(),
    session,
    events,
    write: (command) => {
      writes.next(written(command));
      return Promise.resolve();
    },
    othersWatching: () => false,
    onPendingCount: () => undefined,
  });
  const h: Harness = {
    desk,
    written$: writes.asObservable(),
    events$: published.asObservable(),
    pending$: desk.pending$.pipe(map((pending) => pending.map((request) => request.requestId).join(','))),
    onEvent: () => undefined,
  };
  events.runListeners = new Set([
    {
      next: (event: PiEvent) => {
        published.next(seen(event));
        h.onEvent(event);
      },
    },
  ]);
  if (options.start ?? true) desk.start();
  return h;
}

/**
 * A policy that answers each request with its own marble (by request id; none: never), mapped to
 * decisions: `y` allow, `n` deny, `d` defer, `a` the answer `blue`.
 */
function scripted(decisions: Readonly<Record<string, Observable<string>>>, seenBy?: PolicyRequest[]): Policy {
  const DECISIONS: Record<string, Decision> = { y: allow(), n: deny('no'), d: defer(), a: { kind: 'answer', value: 'blue' } };
  return (request$) =>
    request$.pipe(
      mergeMap((input) => {
        seenBy?.push(input);
        const { requestId } = input.request;
        return (decisions[requestId] ?? NEVER).pipe(
          map((letter): PolicyAnswer => ({ requestId, decision: DECISIONS[letter] ?? deny(`bad letter ${letter}`) })),
        );
      }),
    );
}

/** Host answers in marbles: `y` yes (allow), `n` no (deny). */
const YES_NO = { y: true, n: false };

describe('InteractionDesk.setPolicy', () => {
  let scheduler: TestScheduler;
  /** The `respond()` calls of a test, awaited after it (each must resolve). */
  const responses: Promise<void>[] = [];
  /** Runs `work` at a virtual frame. */
  const at = (frame: number, work: () => void): void => {
    scheduler.schedule(work, frame);
  };
  /** The host answers, at a virtual frame. */
  const respondAt = (frame: number, h: Harness, requestId: string, value: DecisionInput): void =>
    at(frame, () => {
      responses.push(h.desk.respond(requestId, value));
    });
  beforeEach(() => {
    scheduler = createTestScheduler();
  });
  afterEach(async () => {
    await Promise.all(responses.splice(0));
  });

  describe('later requests and the old policy', () => {
    it('later requests go to the new policy; what the old one answered stands', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const oldHost = cold<DecisionInput>('   -n', YES_NO);
        const newHost = cold<DecisionInput>('   -y', YES_NO);
        const h = harness(askHost(() => oldHost));
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(3, () => h.desk.setPolicy(askHost(() => newHost)));
        at(5, () => h.desk.open(confirm('r2'), {}, 10));
        expectObservable(h.written$).toBe(' --a---b', { a: 'r1 deny', b: 'r2 allow' });
        expectObservable(h.events$).toBe('  --a---b', { a: 'r1 policy', b: 'r2 policy' });
        expectSubscriptions(oldHost.subscriptions).toBe('-^!');
        expectSubscriptions(newHost.subscriptions).toBe('-----^!');
      });
    });

    it('the answers of the old policy after the switch are ignored: it is unsubscribed, the new one decides', () => {
      scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const oldAnswers = hot<PolicyAnswer>('------a', { a: { requestId: 'r1', decision: deny('too late') } });
        const oldPolicy: Policy = (request$) => merge(request$.pipe(ignoreElements()), oldAnswers);
        const decisions = { r1: cold('  ----(y|)') };
        const h = harness(oldPolicy);
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(3, () => h.desk.setPolicy(scripted(decisions)));
        expectObservable(h.written$).toBe('-------a', { a: 'r1 allow' });
        expectObservable(h.events$).toBe(' -------a', { a: 'r1 policy' });
        expectSubscriptions(oldAnswers.subscriptions).toBe('^--!');
        expectSubscriptions(decisions.r1.subscriptions).toBe('---^---!');
      });
    });

    it('the old policy’s signal for a re-offered request aborts (PI_REQUEST_WITHDRAWN); the new policy gets a live one', () => {
      const oldSeen: PolicyRequest[] = [];
      const newSeen: PolicyRequest[] = [];
      let aborted: unknown;
      scheduler.run(({ cold }) => {
        const h = harness(scripted({}, oldSeen));
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(2, () => oldSeen[0]?.signal.addEventListener('abort', () => (aborted = oldSeen[0]?.signal.reason as unknown)));
        at(3, () => h.desk.setPolicy(scripted({ r1: cold('--y') }, newSeen)));
        at(4, () => {
          expect(oldSeen[0]?.signal.aborted).toBe(true);
          expect(newSeen[0]?.signal.aborted).toBe(false);
          expect(newSeen[0]?.request).toBe(oldSeen[0]?.request);
        });
      });
      expect(aborted).toMatchObject({ code: 'PI_REQUEST_WITHDRAWN', message: expect.stringContaining('switched its policy') as unknown });
      expect(newSeen[0]?.signal.aborted).toBe(true); // once answered, the request is closed
    });
  });

  describe('a request the old policy was still deciding', () => {
    it('is decided by the new policy and recorded once (handledBy policy)', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const h = harness(scripted({}));
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(1, () => h.desk.open(question('q1'), {}, 10));
        at(3, () => h.desk.setPolicy(scripted({ r1: cold('-n'), q1: cold('--a') })));
        expectObservable(h.written$).toBe('----ab', { a: 'r1 deny', b: 'q1 = blue' });
        expectObservable(h.events$).toBe(' ----ab', { a: 'r1 policy', b: 'q1 policy' });
        expectObservable(h.pending$).toBe('a', { a: '' });
      });
    });

    it('deferred by the new policy: it goes to the host once (handledBy host), and respond() answers it', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const h = harness(scripted({}));
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(3, () => h.desk.setPolicy(scripted({ r1: cold('d') })));
        respondAt(6, h, 'r1', true);
        expectObservable(h.written$).toBe('------a', { a: 'r1 allow' });
        expectObservable(h.events$).toBe(' ---a', { a: 'r1 host' });
        expectObservable(h.pending$).toBe('e--p--e', { e: '', p: 'r1' });
      });
    });
  });

  describe('a request the old policy had left to the host (in pending$)', () => {
    it('answered by the new policy: it leaves pending$, its answer goes to pi, no second event', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const host = cold<DecisionInput>('--y', YES_NO);
        const h = harness(askHost());
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(3, () => h.desk.setPolicy(askHost(() => host)));
        expectObservable(h.written$).toBe('-----a', { a: 'r1 allow' });
        expectObservable(h.events$).toBe(' -a', { a: 'r1 host' });
        expectObservable(h.pending$).toBe('ep---e', { e: '', p: 'r1' });
        expectSubscriptions(host.subscriptions).toBe('---^-!');
      });
    });

    it('deferred again: it stays pending, unpublished again, and respond() still answers it', () => {
      scheduler.run(({ expectObservable }) => {
        const h = harness(askHost());
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(3, () => h.desk.setPolicy(autoApprove({ allow: () => false }))); // defers every permission
        respondAt(5, h, 'r1', false);
        expectObservable(h.written$).toBe('-----a', { a: 'r1 deny' });
        expectObservable(h.events$).toBe(' -a', { a: 'r1 host' });
        expectObservable(h.pending$).toBe('ep---e', { e: '', p: 'r1' });
      });
    });

    it('the host answers first: its answer wins, the new policy’s later one is ignored', () => {
      scheduler.run(({ expectObservable }) => {
        const h = harness(askHost());
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(3, () => h.desk.setPolicy(timeoutDecision(4, false))); // defers, then denies at frame 7
        respondAt(5, h, 'r1', true);
        expectObservable(h.written$).toBe('-----a', { a: 'r1 allow' });
        expectObservable(h.events$).toBe(' -a', { a: 'r1 host' });
        expectObservable(h.pending$).toBe('ep---e', { e: '', p: 'r1' });
      });
    });

    it('the new policy answers first: its answer wins, a later respond() does nothing', async () => {
      let late: Promise<void> | undefined;
      scheduler.run(({ expectObservable }) => {
        const h = harness(askHost());
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(3, () => h.desk.setPolicy(timeoutDecision(4, false)));
        at(8, () => {
          late = h.desk.respond('r1', true);
        });
        expectObservable(h.written$).toBe('-------a', { a: 'r1 deny' });
        expectObservable(h.pending$).toBe('ep-----e', { e: '', p: 'r1' });
      });
      await expect(late).resolves.toBeUndefined();
    });
  });

  describe('fails closed', () => {
    it('a new policy that errors: what it was deciding is denied, a request left to the host stays, a fresh copy takes the next', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const h = harness(scripted({ r2: cold('d') }));
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(2, () => h.desk.open(confirm('r2'), {}, 10));
        at(4, () => h.desk.setPolicy(scripted({ r1: cold('--#'), r3: cold('y') })));
        at(11, () => h.desk.open(confirm('r3'), {}, 10));
        expectObservable(h.written$).toBe('------a----b', { a: 'r1 deny', b: 'r3 allow' });
        expectObservable(h.events$).toBe(' --a---(eb)-c', { a: 'r2 host', e: 'error policy_error', b: 'r1 policy', c: 'r3 policy' });
        expectObservable(h.pending$).toBe('e-p', { e: '', p: 'r2' });
      });
    });

    it('a new policy that completes: a permission it held is denied, a question cancelled', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const ends = cold<PolicyAnswer>('--|');
        let copies = 0;
        const h = harness(scripted({}));
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(1, () => h.desk.open(question('q1'), {}, 10));
        at(3, () => h.desk.setPolicy(() => (copies++ === 0 ? ends : NEVER))); // the fresh copy after it lives on
        expectObservable(h.written$).toBe('-----(ab)', { a: 'r1 deny', b: 'q1 cancel' });
        expectObservable(h.events$).toBe(' -----(eab)', { e: 'error policy_error', a: 'r1 policy', b: 'q1 policy' });
      });
    });

    it('a non-function is a PiConfigError naming policy, thrown at once; nothing changes', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const host = cold<DecisionInput>('-y', YES_NO);
        const h = harness(askHost(() => host));
        at(2, () => {
          const bads: unknown[] = [undefined, null, {}, 'autoApprove', allow()];
          for (const bad of bads) {
            let thrown: unknown;
            try {
              h.desk.setPolicy(bad as Policy);
            } catch (error) {
              thrown = error;
            }
            expect(thrown).toBeInstanceOf(PiConfigError);
            expect(thrown).toMatchObject({ field: 'policy' });
          }
        });
        at(3, () => h.desk.open(confirm('r1'), {}, 10));
        expectObservable(h.written$).toBe('----a', { a: 'r1 allow' });
        expectSubscriptions(host.subscriptions).toBe('---^!');
      });
    });

    it('after close: a valid policy is ignored (never subscribed), an invalid one still throws', () => {
      let subscribed = 0;
      const h = harness(askHost());
      h.desk.close();
      expect(() =>
        h.desk.setPolicy((request$) => {
          subscribed++;
          return request$.pipe(map(({ request }) => ({ requestId: request.requestId, decision: allow() })));
        }),
      ).not.toThrow();
      expect(subscribed).toBe(0);
      expect(() => h.desk.setPolicy(42 as unknown as Policy)).toThrow(PiConfigError);
    });

    it('before start: start() subscribes the policy set last, and only that one', () => {
      const subscribed: string[] = [];
      const named =
        (name: string): Policy =>
        (request$) => {
          subscribed.push(name);
          return request$.pipe(ignoreElements());
        };
      const h = harness(named('first'), { start: false });
      h.desk.setPolicy(named('second'));
      expect(subscribed).toEqual([]);
      h.desk.start();
      expect(subscribed).toEqual(['second']);
      h.desk.close();
    });
  });

  describe('the default policy', () => {
    it('its safeguard (deny at once what nobody can see) ends with any setPolicy, askHost() too', () => {
      scheduler.run(({ expectObservable }) => {
        // Nobody subscribes to pending$ here, and nothing else watches.
        const h = harness(askHost(), { defaultPolicy: true });
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(2, () => h.desk.setPolicy(askHost()));
        at(6, () => h.desk.open(confirm('r2'), {}, 10));
        respondAt(8, h, 'r2', true);
        expectObservable(h.written$).toBe('-a------b', { a: 'r1 deny', b: 'r2 allow' });
        expectObservable(h.events$).toBe(' -(ea)-b', { e: 'error policy_error', a: 'r1 policy', b: 'r2 host' });
      });
    });
  });

  describe('re-entrancy', () => {
    it('a new policy that answers synchronously decides every open request once, oldest first, at the switch', () => {
      scheduler.run(({ expectObservable }) => {
        const h = harness(scripted({}));
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(2, () => h.desk.open(confirm('r2'), {}, 10));
        at(3, () => h.desk.setPolicy(autoApprove()));
        expectObservable(h.written$).toBe('---(ab)', { a: 'r1 allow', b: 'r2 allow' });
        expectObservable(h.events$).toBe(' ---(ab)', { a: 'r1 policy', b: 'r2 policy' });
      });
    });

    it('an answer a policy emits while being subscribed, for a request it was not given, is ignored; it still gets the request', () => {
      scheduler.run(({ expectObservable }) => {
        const h = harness(scripted({}));
        const eager: Policy = (request$) =>
          merge(
            of<PolicyAnswer>({ requestId: 'r1', decision: deny('guessed') }),
            request$.pipe(map(({ request }): PolicyAnswer => ({ requestId: request.requestId, decision: allow() }))),
          );
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(3, () => h.desk.setPolicy(eager));
        expectObservable(h.written$).toBe('---a', { a: 'r1 allow' });
      });
    });

    it('setPolicy() from inside the old policy’s host callback: the new policy decides, the callback’s answer is ignored', () => {
      const signals: AbortSignal[] = [];
      scheduler.run(({ expectObservable }) => {
        const h = harness(
          askHost((_request, { signal }) => {
            signals.push(signal);
            h.desk.setPolicy(autoApprove());
            return false;
          }),
        );
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(2, () => h.desk.open(confirm('r2'), {}, 10));
        expectObservable(h.written$).toBe('-ab', { a: 'r1 allow', b: 'r2 allow' });
        expectObservable(h.events$).toBe(' -ab', { a: 'r1 policy', b: 'r2 policy' });
      });
      expect(signals).toHaveLength(1);
      expect(signals[0]?.aborted).toBe(true);
    });

    it('two switches in one frame: the last policy decides, the one between is subscribed and unsubscribed at once', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const between = cold<DecisionInput>('-y', YES_NO);
        const last = cold<DecisionInput>('  --n', YES_NO);
        const h = harness(askHost());
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(3, () => {
          h.desk.setPolicy(askHost(() => between));
          h.desk.setPolicy(askHost(() => last));
        });
        expectObservable(h.written$).toBe('-----a', { a: 'r1 deny' });
        expectObservable(h.events$).toBe(' -a', { a: 'r1 host' });
        expectSubscriptions(between.subscriptions).toBe('---(^!)');
        expectSubscriptions(last.subscriptions).toBe('   ---^-!');
      });
    });

    it('setPolicy() from an events$ subscriber during the re-offer: the rest goes to the newest policy, each request answered once', () => {
      scheduler.run(({ expectObservable }) => {
        const h = harness(scripted({}));
        h.onEvent = (event) => {
          if (event.type === 'interaction_request' && event.requestId === 'r1') h.desk.setPolicy(denyAll('switched again'));
        };
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(1, () => h.desk.open(confirm('r2'), {}, 10));
        at(3, () => h.desk.setPolicy(autoApprove()));
        at(8, () => h.desk.open(confirm('r3'), {}, 10));
        expectObservable(h.written$).toBe('---(ab)-c', { a: 'r1 allow', b: 'r2 deny', c: 'r3 deny' });
        expectObservable(h.events$).toBe(' ---(ab)-c', { a: 'r1 policy', b: 'r2 policy', c: 'r3 policy' });
      });
    });

    it('setPolicy() from the old policy’s teardown: that nested policy wins and is the only one subscribed', () => {
      const subscribed: string[] = [];
      scheduler.run(({ expectObservable }) => {
        const tracked =
          (name: string, policy: Policy): Policy =>
          (request$) => {
            subscribed.push(name);
            return policy(request$);
          };
        const nested = tracked('nested', denyAll('from the teardown'));
        const h = harness((request$) =>
          request$.pipe(
            ignoreElements(),
            finalize(() => h.desk.setPolicy(nested)),
          ),
        );
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(3, () => h.desk.setPolicy(tracked('outer', autoApprove())));
        at(5, () => h.desk.open(confirm('r2'), {}, 10));
        expectObservable(h.written$).toBe('---a-b', { a: 'r1 deny', b: 'r2 deny' });
      });
      expect(subscribed).toEqual(['nested']);
    });

    it('setPolicy() while the new policy is being subscribed: that one is unsubscribed at once, the nested one runs until the next switch', () => {
      scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const firstAnswers = hot<PolicyAnswer>('-----a', { a: { requestId: 'r1', decision: allow() } });
        const nestedHost = cold<DecisionInput>('   --n', YES_NO);
        const h = harness(scripted({}));
        const nested = askHost(() => nestedHost);
        const switching: Policy = (request$) => {
          h.desk.setPolicy(nested); // while being subscribed
          return merge(request$.pipe(ignoreElements()), firstAnswers);
        };
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(3, () => h.desk.setPolicy(switching));
        at(7, () => h.desk.setPolicy(autoApprove()));
        at(8, () => h.desk.open(confirm('r2'), {}, 10));
        expectObservable(h.written$).toBe('-----a--b', { a: 'r1 deny', b: 'r2 allow' });
        expectSubscriptions(firstAnswers.subscriptions).toBe('---(^!)');
        expectSubscriptions(nestedHost.subscriptions).toBe('  ---^-!');
      });
    });

    it('setPolicy() from an events$ subscriber when a policy dies: the new policy gets what the dead one held, not a denial', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const host = cold<DecisionInput>('-(y|)', YES_NO);
        const h = harness(scripted({ r1: cold('--#') }));
        h.onEvent = (event) => {
          if (event.type === 'error') h.desk.setPolicy(askHost(() => host, { concurrency: 2 }));
        };
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        at(1, () => h.desk.open(confirm('r2'), {}, 10));
        at(8, () => h.desk.open(confirm('r3'), {}, 10));
        expectObservable(h.written$).toBe('----(ab)-c', { a: 'r1 allow', b: 'r2 allow', c: 'r3 allow' });
        expectObservable(h.events$).toBe(' ---e(ab)-c', { e: 'error policy_error', a: 'r1 policy', b: 'r2 policy', c: 'r3 policy' });
        expectSubscriptions(host.subscriptions).toBe(['---^!', '---^!', '--------^!']);
      });
    });

    it('setPolicy() from an events$ subscriber on an invalid answer: the new policy decides that request', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const host = cold<DecisionInput>('-(y|)', YES_NO);
        const h = harness(scripted({ r1: cold('-a') })); // an answer 'blue' to a permission: invalid
        h.onEvent = (event) => {
          if (event.type === 'error') h.desk.setPolicy(askHost(() => host));
        };
        at(1, () => h.desk.open(confirm('r1'), {}, 10));
        expectObservable(h.written$).toBe('---a', { a: 'r1 allow' });
        expectObservable(h.events$).toBe(' --ea', { e: 'error policy_error', a: 'r1 policy' });
      });
    });

    it('setPolicy() from an events$ subscriber when a policy dies holding nothing: the new one is subscribed once, not restarted', () => {
      const subscribed: string[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        const h = harness(() => cold<PolicyAnswer>('--#'));
        h.onEvent = (event) => {
          if (event.type === 'error') {
            h.desk.setPolicy((request$) => {
              subscribed.push('replacement');
              return autoApprove()(request$);
            });
          }
        };
        at(4, () => h.desk.open(confirm('r1'), {}, 10));
        expectObservable(h.written$).toBe('----a', { a: 'r1 allow' });
      });
      expect(subscribed).toEqual(['replacement']);
    });

    it('a new policy that completes at once, and again on each restart: a request left to the host stays answerable', () => {
      scheduler.run(({ expectObservable }) => {
        const h = harness(askHost());
        at(1, () => h.desk.open(confirm('r1'), {}, 10)); // left to the host
        at(2, () => h.desk.setPolicy(() => EMPTY)); // completes at once, and again on each restart
        respondAt(4, h, 'r1', true);
        at(9, () => h.desk.open(confirm('r2'), {}, 10)); // no policy is running any more: denied
        expectObservable(h.written$).toBe('----a----b', { a: 'r1 allow', b: 'r2 deny' });
        expectObservable(h.events$).toBe(' -a(eeee)-b', { a: 'r1 host', e: 'error policy_error', b: 'r2 policy' });
      });
    });
  });
});
