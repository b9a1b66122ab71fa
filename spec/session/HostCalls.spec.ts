/**
 * HostCalls with fakes (no session, no transport): the pi flow (pidriver's extension's host-call
 * dialogs, answered one at a time, `op: 'next'` for each answer after the first), the omp flow
 * (`host_tool_call` → `host_tool_update`s and one `host_tool_result`, `host_tool_cancel`), the
 * run's result tool (`output`), and what goes to omp as `set_host_tools`. Timed tools run on a
 * TestScheduler; promises settle within a bounded number of macrotask turns.
 */
import { concatWith, EMPTY, filter, lastValueFrom, map, NEVER, Observable, of, Subject, throwError } from 'rxjs';
import * as z from 'zod';
import { describe, expect, it, vi } from 'vitest';
import type { OpenToolCall } from '../../src/protocol/EventNormalizer.js';
import type { ExtensionUiRequestFrame, FrameOf } from '../../src/protocol/frames.js';
import type { HostCallAnswer, HostCallRequest, ToolSpec } from '../../src/protocol/hostCalls.js';
import { HostCalls, type OutputSlot } from '../../src/session/HostCalls.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { hostTool, type AnyHostTool, type HostToolContext, type HostToolOutput } from '../../src/tools/hostTool.js';
import { createTestScheduler } from '../helpers/testScheduler.js';

const NONCE = 'test-nonce';
const TITLE = `pidriver:host_call ${NONCE}`;
const session = { sessionId: 'host-1' } as unknown as PiSession;

interface DialogAnswer {
  readonly id: unknown;
  readonly answer: HostCallAnswer;
}
const asDialogAnswer = (frame: Record<string, unknown>): DialogAnswer => ({ id: frame['id'], answer: JSON.parse(frame['value'] as string) as HostCallAnswer });

interface Setup {
  readonly tools?: readonly AnyHostTool[];
  readonly omp?: boolean;
  /** What omp's `set_host_tools` answers (default: an immediate success). */
  readonly request$?: (command: { readonly type: string }) => Observable<unknown>;
}

/** A HostCalls over recording fakes: `written` (frames to pi), `requests` (commands), `errors`, `open` (tools pi runs now). */
function setup(options: Setup = {}) {
  const written: Record<string, unknown>[] = [];
  const written$ = new Subject<Record<string, unknown>>();
  const requests: { readonly type: string; readonly [field: string]: unknown }[] = [];
  const errors: { code: string; message: string }[] = [];
  const open = new Map<string, OpenToolCall>();
  const hostCalls = new HostCalls({
    tools: options.tools ?? [],
    nonce: NONCE,
    session,
    openTools: () => open,
    isOmp: () => options.omp === true,
    request$: (command) => {
      requests.push(command);
      return options.request$ ? options.request$(command) : of({});
    },
    write: (command) => {
      written.push(command as Record<string, unknown>);
      written$.next(command as Record<string, unknown>);
      return Promise.resolve();
    },
    onError: (code, message) => errors.push({ code, message }),
  });
  /** pi starts running a tool call (its `tool_execution_start`). */
  const running = (toolCallId: string, name: string): void => void open.set(toolCallId, { toolCallId, name, args: {} });
  /** The answers written to host-call dialogs, by dialog id. */
  const answers = (): DialogAnswer[] => written.filter((frame) => frame['type'] === 'extension_ui_response').map(asDialogAnswer);
  /** The answers to host-call dialogs as they are written (for marbles). */
  const answers$ = written$.pipe(
    filter((frame) => frame['type'] === 'extension_ui_response'),
    map(asDialogAnswer),
  );
  return { hostCalls, written, written$, requests, errors, open, running, answers, answers$ };
}

/** One of pidriver's extension's host-call dialogs. */
const dialog = (id: string, request: HostCallRequest | string, title = TITLE, method = 'input'): ExtensionUiRequestFrame => ({
  type: 'extension_ui_request',
  id,
  method,
  title,
  placeholder: typeof request === 'string' ? request : JSON.stringify(request),
});
const call = (toolCallId: string, name: string, args: unknown): HostCallRequest => ({ op: 'call', toolCallId, name, args });
const next = (toolCallId: string): HostCallRequest => ({ op: 'next', toolCallId });
const ompCall = (id: string, toolCallId: string, toolName: string, args: unknown): FrameOf<'host_tool_call'> => ({
  type: 'host_tool_call',
  id,
  toolCallId,
  toolName,
  arguments: args,
});
const toolEnd = (toolCallId: string, toolName: string, isError: boolean, text = ''): FrameOf<'tool_execution_end'> => ({
  type: 'tool_execution_end',
  toolCallId,
  toolName,
  isError,
  result: { content: [{ type: 'text', text }] },
});

const text = (value: string) => [{ type: 'text' as const, text: value }];
const result = (value: string, extra: Partial<Extract<HostCallAnswer, { kind: 'result' }>> = {}): HostCallAnswer => ({
  kind: 'result',
  content: text(value),
  ...extra,
});
const update = (value: string, extra: { details?: unknown } = {}): HostCallAnswer => ({ kind: 'update', content: text(value), ...extra });
const failure = (pattern: RegExp) => ({ kind: 'result', isError: true, content: [{ type: 'text', text: expect.stringMatching(pattern) as string }] });

/** Lets promise callbacks (a Promise-returning execute) run: a few macrotask turns, bounded. */
const settle = async (turns = 3): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/** A tool whose `execute` is the given function (spied), with `{ sku: string }` arguments. */
function lookupTool(execute: (args: { sku: string }, context: HostToolContext) => HostToolOutput = ({ sku }) => `12 units of ${sku}`) {
  const spy = vi.fn(execute);
  const tool = hostTool({ name: 'lookup', description: 'Looks up stock.', parameters: z.object({ sku: z.string().min(3) }), execute: spy });
  return { tool, execute: spy };
}

const CITY_SPEC: ToolSpec = {
  name: 'submit_result',
  label: 'Submit result',
  description: 'Submits the result.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('HostCalls: pi dialogs', () => {
  it('recognises only input dialogs titled with this pi’s nonce', () => {
    const { hostCalls } = setup();
    expect(hostCalls.isHostCall(dialog('d1', next('c1')))).toBe(true);
    expect(hostCalls.isHostCall(dialog('d1', next('c1'), 'pidriver:host_call other-nonce'))).toBe(false);
    expect(hostCalls.isHostCall(dialog('d1', next('c1'), 'pidriver:host_call'))).toBe(false);
    expect(hostCalls.isHostCall(dialog('d1', next('c1'), TITLE, 'confirm'))).toBe(false);
    expect(hostCalls.isHostCall({ type: 'extension_ui_request', id: 'd1', method: 'input' })).toBe(false);
  });

  it('a call of a tool that is not running is refused: an isError answer and a host_tool_refused error; execute never runs', () => {
    const { tool, execute } = lookupTool();
    const { hostCalls, answers, errors, running } = setup({ tools: [tool] });
    hostCalls.onDialog(dialog('d1', call('c1', 'lookup', { sku: 'A-100' })));
    // Running, but under another name: refused too (another extension can't borrow a running call's id).
    running('c2', 'bash');
    hostCalls.onDialog(dialog('d2', call('c2', 'lookup', { sku: 'A-100' })));
    expect(execute).not.toHaveBeenCalled();
    expect(answers()).toEqual([
      { id: 'd1', answer: failure(/^no running call of lookup with this id$/) },
      { id: 'd2', answer: failure(/^no running call of lookup with this id$/) },
    ]);
    expect(errors).toEqual([
      { code: 'host_tool_refused', message: expect.stringMatching(/refused a host call of lookup \(c1\)/) as string },
      { code: 'host_tool_refused', message: expect.stringMatching(/refused a host call of lookup \(c2\)/) as string },
    ]);
  });

  it('a second call with the id of a call still running is refused', () => {
    const { tool, execute } = lookupTool(() => NEVER);
    const { hostCalls, answers, errors, running } = setup({ tools: [tool] });
    running('c1', 'lookup');
    hostCalls.onDialog(dialog('d1', call('c1', 'lookup', { sku: 'A-100' })));
    hostCalls.onDialog(dialog('d2', call('c1', 'lookup', { sku: 'A-100' })));
    expect(execute).toHaveBeenCalledTimes(1);
    expect(answers()).toEqual([{ id: 'd2', answer: failure(/no running call of lookup/) }]);
    expect(errors.map((error) => error.code)).toEqual(['host_tool_refused']);
  });

  it('a placeholder it can’t read is answered with an error', () => {
    const { hostCalls, answers } = setup();
    hostCalls.onDialog(dialog('d1', 'not json'));
    hostCalls.onDialog(dialog('d2', JSON.stringify({ op: 'explode', toolCallId: 'c1' })));
    expect(answers()).toEqual([
      { id: 'd1', answer: failure(/could not read this host tool call/) },
      { id: 'd2', answer: failure(/could not read this host tool call/) },
    ]);
  });

  it('invalid arguments never reach execute: the answer is a tool error naming the field', () => {
    const { tool, execute } = lookupTool();
    const { hostCalls, answers, running } = setup({ tools: [tool] });
    running('c1', 'lookup');
    hostCalls.onDialog(dialog('d1', call('c1', 'lookup', { sku: 42 })));
    running('c2', 'lookup');
    hostCalls.onDialog(dialog('d2', call('c2', 'lookup', { sku: 'A' })));
    expect(execute).not.toHaveBeenCalled();
    expect(answers()).toEqual([
      { id: 'd1', answer: failure(/^Invalid arguments for lookup: sku: Invalid input: expected string, received number$/) },
      { id: 'd2', answer: failure(/^Invalid arguments for lookup: sku: .*>=3 characters/) },
    ]);
  });

  it('a result whose details can’t be serialized (a cycle, a BigInt) is a tool error, not a crash', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const { tool } = lookupTool(() => ({ content: 'ok', details: cyclic }));
    const { tool: big } = lookupTool(() => ({ content: 'ok', details: { n: 1n } }));
    const first = setup({ tools: [tool] });
    first.running('c1', 'lookup');
    first.hostCalls.onDialog(dialog('d1', call('c1', 'lookup', { sku: 'A-1' })));
    expect(first.answers()).toEqual([{ id: 'd1', answer: failure(/^the tool's result could not be serialized: .*circular/i) }]);
    const second = setup({ tools: [big] });
    second.running('c1', 'lookup');
    second.hostCalls.onDialog(dialog('d1', call('c1', 'lookup', { sku: 'A-1' })));
    expect(second.answers()).toEqual([{ id: 'd1', answer: failure(/could not be serialized: .*BigInt/i) }]);
  });

  it('a running tool that is not one of the host’s is answered with an error', () => {
    const { hostCalls, answers, running } = setup();
    running('c1', 'bash');
    hostCalls.onDialog(dialog('d1', call('c1', 'bash', { command: 'ls' })));
    expect(answers()).toEqual([{ id: 'd1', answer: failure(/^bash is not a host tool of this session$/) }]);
  });

  it('a Promise: execute gets the parsed arguments and its context; the value answers the call dialog', async () => {
    const { tool, execute } = lookupTool(({ sku }) => Promise.resolve({ content: `12 units of ${sku}`, details: { units: 12 } }));
    const { hostCalls, answers, running } = setup({ tools: [tool] });
    running('c1', 'lookup');
    hostCalls.onDialog(dialog('d1', call('c1', 'lookup', { sku: 'A-100', extra: 'dropped by the schema' })));
    expect(execute).toHaveBeenCalledTimes(1);
    const [args, context] = execute.mock.calls[0]!;
    expect(args).toEqual({ sku: 'A-100' });
    expect(context).toMatchObject({ session, toolCallId: 'c1' });
    expect(context.signal.aborted).toBe(false);
    await settle();
    expect(answers()).toEqual([{ id: 'd1', answer: result('12 units of A-100', { details: { units: 12 } }) }]);
    // The call is over: a late `next` for it finds nothing.
    hostCalls.onDialog(dialog('d2', next('c1')));
    expect(answers()[1]).toEqual({ id: 'd2', answer: failure(/^no such host tool call$/) });
  });

  it('a string answers at once; content parts and isError pass through', () => {
    const image = { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' } as const;
    const tools = [
      hostTool({ name: 'plain', description: 'd', parameters: z.object({}), execute: () => 'done' }),
      hostTool({ name: 'parts', description: 'd', parameters: z.object({}), execute: () => ({ content: [{ type: 'text', text: 'see' }, image] }) }),
      hostTool({ name: 'soft_fail', description: 'd', parameters: z.object({}), execute: () => ({ content: 'not found', isError: true }) }),
    ];
    const { hostCalls, answers, running } = setup({ tools });
    for (const [i, name] of ['plain', 'parts', 'soft_fail'].entries()) {
      running(`c${i}`, name);
      hostCalls.onDialog(dialog(`d${i}`, call(`c${i}`, name, {})));
    }
    expect(answers()).toEqual([
      { id: 'd0', answer: result('done') },
      { id: 'd1', answer: { kind: 'result', content: [{ type: 'text', text: 'see' }, image] } },
      { id: 'd2', answer: result('not found', { isError: true }) },
    ]);
  });

  it('an Observable: each value but the last is progress, sent when the extension asks for it (next): queued until asked, or waited for', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const progress$ = cold('-a-b-c---|', { a: 'step 1', b: { content: 'step 2', details: { n: 2 } }, c: { content: 'counted', details: { n: 3 } } });
      const { tool } = lookupTool(() => progress$);
      const { hostCalls, running, answers$ } = setup({ tools: [tool] });
      running('c1', 'lookup');
      // A value is known to be progress when the next one comes: update(a) at 3, update(b) at 5,
      // result(c) at the completion (9). d0, the call, waits for the first answer (3); update(b) is
      // queued until d1 asks for it (6); d2 asks (7) before the result exists and waits for it (9).
      hot('a-----bc', { a: dialog('d0', call('c1', 'lookup', { sku: 'A-100' })), b: dialog('d1', next('c1')), c: dialog('d2', next('c1')) }).subscribe(
        (frame) => hostCalls.onDialog(frame),
      );
      expectObservable(answers$).toBe('---a--b--c', {
        a: { id: 'd0', answer: update('step 1') },
        b: { id: 'd1', answer: update('step 2', { details: { n: 2 } }) },
        c: { id: 'd2', answer: result('counted', { details: { n: 3 } }) },
      });
      expectSubscriptions(progress$.subscriptions).toBe('^--------!');
    });
  });

  it('answers queued before the extension asks go out one per next, in order', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, hot, expectObservable }) => {
      // All three values at once: update(a) answers the call, update(b) and result(c) wait in the queue.
      const { tool } = lookupTool(() => cold('-(abc|)', { a: 'one', b: 'two', c: 'three' }));
      const { hostCalls, running, answers$ } = setup({ tools: [tool] });
      running('c1', 'lookup');
      hot('a---b-c', { a: dialog('d0', call('c1', 'lookup', { sku: 'A-100' })), b: dialog('d1', next('c1')), c: dialog('d2', next('c1')) }).subscribe((frame) =>
        hostCalls.onDialog(frame),
      );
      expectObservable(answers$).toBe('-a--b-c', {
        a: { id: 'd0', answer: update('one') },
        b: { id: 'd1', answer: update('two') },
        c: { id: 'd2', answer: result('three') },
      });
    });
  });

  it.each<[string, () => HostToolOutput, RegExp]>([
    [
      'a throw',
      () => {
        throw new Error('boom');
      },
      /^boom$/,
    ],
    [
      'a throw of a non-Error',
      () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a user's execute may throw anything
        throw 'plain';
      },
      /^plain$/,
    ],
    ['a rejection', () => Promise.reject(new Error('the warehouse is offline')), /^the warehouse is offline$/],
    ['an Observable that errors', () => throwError(() => new Error('broke')), /^broke$/],
    ['an error after progress', () => of('step 1').pipe(concatWith(throwError(() => new Error('broke later')))), /^broke later$/],
    ['no value at all', () => EMPTY, /no elements in sequence/],
    ['a number', () => 42 as never, /a host tool must give a string or \{ content \}, not number/],
    ['null', () => null as never, /not null/],
    ['undefined', () => undefined as never, /not undefined/],
    ['an object without content', () => ({ text: 'hi' }) as never, /not object/],
    ['a Promise of a number', () => Promise.resolve(42) as never, /not number/],
    ['progress that is not a result', () => of(42 as never, 'done'), /not number/],
  ])('%s is a tool error (isError), never a crash', async (_what, execute, message) => {
    const { tool } = lookupTool(execute);
    const { hostCalls, running, answers } = setup({ tools: [tool] });
    running('c1', 'lookup');
    hostCalls.onDialog(dialog('d1', call('c1', 'lookup', { sku: 'A-100' })));
    await settle();
    expect(answers()).toEqual([{ id: 'd1', answer: failure(message) }]);
  });

  it('abortAll aborts each call’s signal and unsubscribes its execute; nothing more is answered', () => {
    const scheduler = createTestScheduler();
    let signal: AbortSignal | undefined;
    let hostCalls!: HostCalls;
    let answers!: () => DialogAnswer[];
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const slow$ = cold('-a-b-c-d-e-|');
      const { tool } = lookupTool((_args, context) => {
        signal = context.signal;
        return slow$;
      });
      const fakes = setup({ tools: [tool] });
      ({ hostCalls, answers } = fakes);
      fakes.running('c1', 'lookup');
      hostCalls.onDialog(dialog('d0', call('c1', 'lookup', { sku: 'A-100' })));
      cold('----x').subscribe(() => hostCalls.abortAll());
      expectObservable(fakes.answers$).toBe('---a', { a: { id: 'd0', answer: update('a') } });
      expectSubscriptions(slow$.subscriptions).toBe('^---!');
    });
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toMatchObject({ message: 'the tool call was cancelled' });
    // The call is gone: the extension's next ask finds nothing.
    hostCalls.onDialog(dialog('d1', next('c1')));
    expect(answers().at(-1)).toEqual({ id: 'd1', answer: failure(/^no such host tool call$/) });
  });

  it('the tool call’s end (tool_execution_end) stops a call still running', () => {
    const teardown = vi.fn();
    let signal: AbortSignal | undefined;
    const { tool } = lookupTool((_args, context) => {
      signal = context.signal;
      return new Observable<string>(() => teardown);
    });
    const { hostCalls, running, answers } = setup({ tools: [tool] });
    running('c1', 'lookup');
    hostCalls.onDialog(dialog('d0', call('c1', 'lookup', { sku: 'A-100' })));
    hostCalls.onToolEnd(toolEnd('c2', 'lookup', true)); // another call's end: this one goes on
    expect(signal?.aborted).toBe(false);
    hostCalls.onToolEnd(toolEnd('c1', 'lookup', true, 'aborted'));
    expect(signal?.aborted).toBe(true);
    expect(teardown).toHaveBeenCalledTimes(1);
    expect(answers()).toEqual([]);
  });
});

describe('HostCalls: the run’s result tool (output)', () => {
  const slot = (answer: HostCallAnswer) => {
    const output = { spec: CITY_SPEC, onCall: vi.fn((_args: unknown) => answer), onFailedCall: vi.fn((_text: string) => undefined) };
    return output satisfies OutputSlot;
  };
  const recorded = result('Result recorded.', { terminate: true });

  it('pi: a submit_result call is answered by the slot, with its arguments, unchecked here (the slot checks them)', () => {
    const { hostCalls, running, answers } = setup();
    const output = slot(recorded);
    hostCalls.output = output;
    running('c1', 'submit_result');
    hostCalls.onDialog(dialog('d1', call('c1', 'submit_result', { city: 'Paris' })));
    expect(output.onCall).toHaveBeenCalledWith({ city: 'Paris' });
    expect(answers()).toEqual([{ id: 'd1', answer: recorded }]);
  });

  it('pi: a submit_result call must be running too', () => {
    const { hostCalls, answers, errors } = setup();
    const output = slot(recorded);
    hostCalls.output = output;
    hostCalls.onDialog(dialog('d1', call('c1', 'submit_result', { city: 'Paris' })));
    expect(output.onCall).not.toHaveBeenCalled();
    expect(answers()).toEqual([{ id: 'd1', answer: failure(/no running call of submit_result/) }]);
    expect(errors.map((error) => error.code)).toEqual(['host_tool_refused']);
  });

  it('without a slot, submit_result is no tool of the session', () => {
    const { hostCalls, running, answers } = setup();
    running('c1', 'submit_result');
    hostCalls.onDialog(dialog('d1', call('c1', 'submit_result', { city: 'Paris' })));
    expect(answers()).toEqual([{ id: 'd1', answer: failure(/^submit_result is not a host tool of this session$/) }]);
  });

  it('a failed tool_execution_end of the result tool is a failed call (its text says why); others are not', () => {
    const { hostCalls } = setup();
    const output = slot(recorded);
    hostCalls.output = output;
    hostCalls.onToolEnd(toolEnd('c1', 'submit_result', false, 'Result recorded.'));
    hostCalls.onToolEnd(toolEnd('c2', 'lookup', true, 'boom'));
    expect(output.onFailedCall).not.toHaveBeenCalled();
    hostCalls.onToolEnd({
      type: 'tool_execution_end',
      toolCallId: 'c3',
      toolName: 'submit_result',
      isError: true,
      result: {
        content: [
          { type: 'text', text: 'Invalid result: ' },
          { type: 'image', data: 'x', mimeType: 'image/png' },
          { type: 'text', text: 'city: missing' },
        ],
      },
    });
    hostCalls.onToolEnd({ type: 'tool_execution_end', toolCallId: 'c4', toolName: 'submit_result', isError: true });
    expect(output.onFailedCall.mock.calls).toEqual([['Invalid result: city: missing'], ['']]);
    hostCalls.output = undefined;
    expect(() => hostCalls.onToolEnd(toolEnd('c5', 'submit_result', true, 'late'))).not.toThrow();
    expect(output.onFailedCall).toHaveBeenCalledTimes(2);
  });

  it('omp: a host_tool_call of submit_result is answered by the slot as a host_tool_result; a failed one on tool_execution_end too', () => {
    const { hostCalls, written } = setup({ omp: true });
    const output = slot(recorded);
    hostCalls.output = output;
    hostCalls.onHostToolCall(ompCall('h1', 'c1', 'submit_result', { city: 'Paris' }));
    output.onCall.mockReturnValueOnce({ kind: 'result', isError: true, content: text('Invalid result: city: missing') });
    hostCalls.onHostToolCall(ompCall('h2', 'c2', 'submit_result', {}));
    expect(output.onCall.mock.calls).toEqual([[{ city: 'Paris' }], [{}]]);
    expect(written).toEqual([
      { type: 'host_tool_result', id: 'h1', result: { content: text('Result recorded.') } },
      { type: 'host_tool_result', id: 'h2', result: { content: text('Invalid result: city: missing') }, isError: true },
    ]);
    hostCalls.onToolEnd(toolEnd('c2', 'submit_result', true, 'Invalid result: city: missing'));
    expect(output.onFailedCall).toHaveBeenCalledWith('Invalid result: city: missing');
  });
});

describe('HostCalls: omp frames', () => {
  it('a host_tool_call runs execute with the parsed arguments; its value is the host_tool_result', async () => {
    const { tool, execute } = lookupTool(({ sku }) => Promise.resolve({ content: `12 units of ${sku}`, details: { units: 12 } }));
    const { hostCalls, written, errors } = setup({ tools: [tool], omp: true });
    // omp's own frames: no tool_execution_start is needed first.
    hostCalls.onHostToolCall(ompCall('h1', 'c1', 'lookup', { sku: 'A-100' }));
    expect(execute).toHaveBeenCalledTimes(1);
    expect(execute.mock.calls[0]![0]).toEqual({ sku: 'A-100' });
    expect(execute.mock.calls[0]![1]).toMatchObject({ session, toolCallId: 'c1' });
    await settle();
    expect(written).toEqual([{ type: 'host_tool_result', id: 'h1', result: { content: text('12 units of A-100'), details: { units: 12 } } }]);
    expect(errors).toEqual([]);
  });

  it('an Observable: a host_tool_update for each value but the last, then the host_tool_result', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const progress$ = cold('-a-b-c|', { a: 'step 1', b: { content: 'step 2', details: { n: 2 } }, c: { content: 'done', details: { n: 3 } } });
      const { tool } = lookupTool(() => progress$);
      const { hostCalls, written$ } = setup({ tools: [tool], omp: true });
      hostCalls.onHostToolCall(ompCall('h1', 'c1', 'lookup', { sku: 'A-100' }));
      expectObservable(written$).toBe('---a-bc', {
        a: { type: 'host_tool_update', id: 'h1', partialResult: { content: text('step 1') } },
        b: { type: 'host_tool_update', id: 'h1', partialResult: { content: text('step 2'), details: { n: 2 } } },
        c: { type: 'host_tool_result', id: 'h1', result: { content: text('done'), details: { n: 3 } } },
      });
      expectSubscriptions(progress$.subscriptions).toBe('^-----!');
    });
  });

  it('invalid arguments, an unknown tool, a throw and an isError result are host_tool_results with isError', () => {
    const { tool, execute } = lookupTool();
    const tools = [
      tool,
      hostTool({ name: 'thrower', description: 'd', parameters: z.object({}), execute: () => { throw new Error('boom'); } }), // prettier-ignore
      hostTool({ name: 'soft_fail', description: 'd', parameters: z.object({}), execute: () => ({ content: 'not found', isError: true }) }),
    ];
    const { hostCalls, written } = setup({ tools, omp: true });
    hostCalls.onHostToolCall(ompCall('h1', 'c1', 'lookup', { sku: 7 }));
    hostCalls.onHostToolCall(ompCall('h2', 'c2', 'nope', {}));
    hostCalls.onHostToolCall(ompCall('h3', 'c3', 'thrower', {}));
    hostCalls.onHostToolCall({ type: 'host_tool_call', id: 'h4', toolCallId: 'c4', toolName: 'soft_fail' }); // no arguments: {}
    expect(execute).not.toHaveBeenCalled();
    const failed = (id: string, pattern: RegExp) => ({
      type: 'host_tool_result',
      id,
      isError: true,
      result: { content: [{ type: 'text', text: expect.stringMatching(pattern) as string }] },
    });
    expect(written).toEqual([
      failed('h1', /^Invalid arguments for lookup: sku: Invalid input: expected string, received number$/),
      failed('h2', /^nope is not a host tool of this session$/),
      failed('h3', /^boom$/),
      failed('h4', /^not found$/),
    ]);
  });

  it('host_tool_cancel aborts the call’s signal and unsubscribes it: no result is sent', () => {
    const teardown = vi.fn();
    let signal: AbortSignal | undefined;
    const { tool } = lookupTool((_args, context) => {
      signal = context.signal;
      return new Observable<string>(() => teardown);
    });
    const { hostCalls, written } = setup({ tools: [tool], omp: true });
    hostCalls.onHostToolCall(ompCall('h1', 'c1', 'lookup', { sku: 'A-100' }));
    hostCalls.onHostToolCancel({ type: 'host_tool_cancel', targetId: 'h9' }); // another call: nothing happens
    hostCalls.onToolEnd(toolEnd('c1', 'lookup', true)); // on omp, only host_tool_cancel stops a call
    expect(signal?.aborted).toBe(false);
    hostCalls.onHostToolCancel({ type: 'host_tool_cancel', id: 'x1', targetId: 'h1' });
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toMatchObject({ message: 'the tool call was cancelled' });
    expect(teardown).toHaveBeenCalledTimes(1);
    expect(written).toEqual([]);
    hostCalls.onHostToolCancel({ type: 'host_tool_cancel', targetId: 'h1' }); // twice: harmless
    expect(teardown).toHaveBeenCalledTimes(1);
  });
});

describe('HostCalls: the tools omp is given (set_host_tools)', () => {
  const { tool } = lookupTool();
  const lookupSpec = { name: 'lookup', label: 'lookup', description: 'Looks up stock.', parameters: tool.jsonSchema };
  const ompLookup = { ...lookupSpec, loadMode: 'essential' };
  const ompCity = { ...CITY_SPEC, loadMode: 'essential' };

  it('specs: each tool as the model sees it', () => {
    expect(setup({ tools: [tool] }).hostCalls.specs).toEqual([lookupSpec]);
  });

  it('install() sends set_host_tools on omp, once started; nothing on pi or without tools', async () => {
    const omp = setup({ tools: [tool], omp: true });
    await lastValueFrom(omp.hostCalls.install$(), { defaultValue: undefined });
    expect(omp.requests).toEqual([{ type: 'set_host_tools', tools: [ompLookup] }]);
    const pi = setup({ tools: [tool] });
    await lastValueFrom(pi.hostCalls.install$(), { defaultValue: undefined });
    expect(pi.requests).toEqual([]);
    const none = setup({ omp: true });
    await lastValueFrom(none.hostCalls.install$(), { defaultValue: undefined });
    expect(none.requests).toEqual([]);
  });

  it('install() rejects when omp refuses set_host_tools', async () => {
    const { hostCalls } = setup({ tools: [tool], omp: true, request$: () => throwError(() => new Error('Unknown command: set_host_tools')) });
    await expect(lastValueFrom(hostCalls.install$())).rejects.toThrow(/Unknown command/);
  });

  it('offerOutput on omp: set_host_tools with submit_result once (follow-ups resend nothing); withdrawOutput sets it back without; the message is unchanged', () => {
    const { hostCalls, requests, errors } = setup({ tools: [tool], omp: true });
    expect(hostCalls.offerOutput(undefined, 'plain')).toBe('plain');
    hostCalls.withdrawOutput(); // nothing offered: nothing to take away
    expect(requests).toEqual([]);
    expect(hostCalls.offerOutput(CITY_SPEC, 'give me a city')).toBe('give me a city');
    expect(hostCalls.offerOutput(CITY_SPEC, 'call it now')).toBe('call it now'); // a follow-up in the same run
    expect(requests).toEqual([{ type: 'set_host_tools', tools: [ompLookup, ompCity] }]);
    hostCalls.withdrawOutput();
    hostCalls.withdrawOutput();
    expect(hostCalls.offerOutput(undefined, 'after')).toBe('after');
    expect(requests).toEqual([
      { type: 'set_host_tools', tools: [ompLookup, ompCity] },
      { type: 'set_host_tools', tools: [ompLookup] },
    ]);
    expect(errors).toEqual([]);
  });

  it('offerOutput on omp without host tools offers submit_result alone, then none', () => {
    const { hostCalls, requests } = setup({ omp: true });
    hostCalls.offerOutput(CITY_SPEC, 'a');
    hostCalls.withdrawOutput();
    expect(requests).toEqual([
      { type: 'set_host_tools', tools: [ompCity] },
      { type: 'set_host_tools', tools: [] },
    ]);
  });

  it('a refused set_host_tools is an error event (command_failed), not a crash', () => {
    const { hostCalls, errors } = setup({ omp: true, request$: () => throwError(() => new Error('boom')) });
    hostCalls.offerOutput(CITY_SPEC, 'a');
    expect(errors).toEqual([{ code: 'command_failed', message: 'set_host_tools failed: boom' }]);
  });

  it('offerOutput on pi puts the run marker with the nonce in front of the prompt; nothing is sent', () => {
    const { hostCalls, requests } = setup({ tools: [tool] });
    expect(hostCalls.offerOutput(CITY_SPEC, 'give me a city')).toBe(
      `<pidriver-run nonce="${NONCE}">${JSON.stringify({ output: CITY_SPEC })}</pidriver-run>\ngive me a city`,
    );
    expect(hostCalls.offerOutput(undefined, 'plain')).toBe('plain');
    expect(requests).toEqual([]);
  });

  it('dispose() drops a set_host_tools in flight and stops running calls', () => {
    const teardown = vi.fn();
    const { tool: slow } = lookupTool(() => new Observable<string>(() => teardown));
    const inFlight = vi.fn();
    const { hostCalls } = setup({ tools: [slow], omp: true, request$: () => new Observable(() => inFlight) });
    hostCalls.offerOutput(CITY_SPEC, 'a');
    hostCalls.onHostToolCall(ompCall('h1', 'c1', 'lookup', { sku: 'A-100' }));
    hostCalls.dispose();
    expect(inFlight).toHaveBeenCalledTimes(1);
    expect(teardown).toHaveBeenCalledTimes(1);
  });
});
