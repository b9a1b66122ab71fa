import type { InteractionRequest } from '../../protocol/events.js';
import { cancel, deny } from '../decisions.js';
import type { CancelDecision, DenyDecision } from '../types.js';
import { describeError } from './describeError.js';

/**
 * @internal What a policy answers when it cannot decide (an error, no answer, an invalid answer):
 * `deny('policy error: …')` for a permission, `cancel()` for anything else.
 */
export function failClosed(request: InteractionRequest, reason: unknown): DenyDecision | CancelDecision {
  return request.kind === 'permission' ? deny(`policy error: ${describeError(reason)}`) : cancel();
}
