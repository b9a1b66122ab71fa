/**
 * A factory of valid `InteractionRequest` events for policy specs.
 */
import { InteractionRequestEventSchema } from '../../src/protocol/events.js';
import type { Decision, PolicyAnswer } from '../../src/policies/types.js';
import type { InteractionKind, InteractionRequest } from '../../src/protocol/events.js';

/** The options of pidriver's approval extension (and omp's, without `Approve always`). */
export const APPROVAL_OPTIONS = ['Approve', 'Approve always', 'Deny'] as const;

type Overrides = Partial<Omit<InteractionRequest, 'type' | 'kind'>>;

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
 * A valid interaction request of a kind (validated with the zod schema), with sensible defaults:
 * a permission is a `select` of our approval extension for `bash`, a choice offers red/green/blue.
 *
 * @param kind The request kind.
 * @param overrides Fields to set (e.g. `requestId`, `toolName`, `options`, `method`).
 */
export function makeRequest(kind: InteractionKind, overrides: Overrides = {}): InteractionRequest {
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

/** A permission request for a tool (`makeRequest('permission', { toolName, … })`). */
export function permission(toolName = 'bash', overrides: Overrides = {}): InteractionRequest {
  return makeRequest('permission', { toolName, prompt: { title: `Allow tool: ${toolName}`, message: '' }, ...overrides });
}

/** The `PolicyAnswer` a policy should emit for a request. */
export function answerFor(request: InteractionRequest, decision: Decision): PolicyAnswer {
  return { requestId: request.requestId, decision };
}
