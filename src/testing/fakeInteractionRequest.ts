import { InteractionRequestEventSchema, type InteractionKind, type InteractionRequest } from '../protocol/events.js';

type Overrides = Partial<Omit<InteractionRequest, 'type' | 'kind'>>;

/** The options of pidriver's approval extension (omp's lack `Approve always`). */
export const APPROVAL_OPTIONS: readonly string[] = Object.freeze(['Approve', 'Approve always', 'Deny']);

const defaults: Record<InteractionKind, () => Overrides> = {
  permission: () => ({
    method: 'select',
    prompt: { title: 'Allow tool: bash', message: 'Command: ls' },
    options: [...APPROVAL_OPTIONS],
    toolCallId: 'call_1',
    toolName: 'bash',
    args: { command: 'ls' },
    default: false,
  }),
  question: () => ({ method: 'input', prompt: { title: 'Favourite colour?', message: '' }, options: [], toolName: 'ask_user' }),
  choice: () => ({ method: 'select', prompt: { title: 'Pick a colour', message: '' }, options: ['red', 'green', 'blue'] }),
  input: () => ({ method: 'input', prompt: { title: 'Your name?', message: 'type a name' }, options: [] }),
  editor: () => ({ method: 'editor', prompt: { title: 'Edit text', message: '' }, options: [], default: 'line 1' }),
};

let seq = 0;

/**
 * A valid interaction request of a kind, for tests without a session (host callbacks, UIs; a
 * policy takes it with its signal: {@link fakePolicyRequest}): a permission is our approval
 * extension's `select` for `bash`, a choice offers red/green/blue.
 *
 * ## Example
 * ```ts
 * const request = fakeInteractionRequest('permission', { toolName: 'write' });
 * expect(await askUser(request, { signal: new AbortController().signal })).toBe(false);
 * ```
 *
 * @param kind The request kind.
 * @param overrides Fields to set (`requestId`, `toolName`, `options`, `method`, …).
 * @return A request validated by the event schema.
 * @see {@link fakePolicyRequest}
 */
export function fakeInteractionRequest(kind: InteractionKind, overrides: Overrides = {}): InteractionRequest {
  seq += 1;
  return InteractionRequestEventSchema.parse({
    type: 'interaction_request',
    sessionId: 'session-1',
    seq,
    raw: {},
    requestId: `req-${seq}`,
    kind,
    ...defaults[kind](),
    ...overrides,
  });
}
