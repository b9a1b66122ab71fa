import type { InteractionRequest } from '../../protocol/events.js';
import type { Decision, PolicyAnswer } from '../types.js';

/** @internal The answer of a policy: which request, and the decision. */
export function answerOf(request: InteractionRequest, decision: Decision): PolicyAnswer {
  return { requestId: request.requestId, decision };
}
