import { PiPolicyError } from '../errors.js';
import type { ExtensionUiResponse } from '../protocol/commands.js';
import type { InteractionRequest } from '../protocol/events.js';
import type { Decision } from './types.js';

const APPROVE = 'Approve';
const APPROVE_ALWAYS = 'Approve always';
const DENY = 'Deny';

/**
 * Writes a decision as the `extension_ui_response` line that answers a request on the wire
 * (`ExtensionUiResponseSchema` in `pidriver/protocol`).
 *
 * - `cancel` → `cancelled: true`, for any dialog;
 * - a `confirm`: `allow` / `allowAlways` → `confirmed: true`, `deny` → `confirmed: false`;
 * - a `select` used as a permission (its options include `Approve` and `Deny`): `allow` →
 *   `value: "Approve"`; `allowAlways` → `"Approve always"` when offered, else `"Approve"`;
 *   `deny` → `"Deny"`, or `"Deny: <message>"` when there is a message *and* the options include
 *   `Approve always` (only pidriver's own extension offers that, and only it reads the message;
 *   omp understands plain `"Deny"` only, so the message is dropped there);
 * - `answer` → `value` (for a `select`, it must be one of the options).
 *
 * ## Example
 * ```ts
 * toUiResponse(request, deny('not in prod'));
 * // { type: 'extension_ui_response', id: request.requestId, value: 'Deny: not in prod' }
 * ```
 *
 * @param request The request being answered.
 * @param decision The decision (normally from {@link coerceDecision}).
 * @return The response object, ready to be written as one JSON line.
 * @throws {PiPolicyError} for `defer` (a deferred request has no wire answer) and for a decision
 *   that doesn't fit the dialog (e.g. `allow` for an `input`).
 * @see {@link coerceDecision}
 */
export function toUiResponse(request: InteractionRequest, decision: Decision): ExtensionUiResponse {
  const id = request.requestId;
  const reject = (reason: string): never => {
    throw new PiPolicyError(id, `Cannot answer ${request.method} request ${id} with ${decision.kind}: ${reason}`);
  };
  const value = (text: string): ExtensionUiResponse => ({ type: 'extension_ui_response', id, value: text });

  if (decision.kind === 'defer') return reject('a deferred request has no wire answer (answer it later with session.respond())');
  if (decision.kind === 'cancel') return { type: 'extension_ui_response', id, cancelled: true };

  const options = request.options;
  switch (request.method) {
    case 'confirm':
      if (decision.kind === 'answer') return reject('a confirm dialog takes allow or deny');
      return { type: 'extension_ui_response', id, confirmed: decision.kind !== 'deny' };
    case 'select': {
      const approval = options.includes(APPROVE) && options.includes(DENY);
      switch (decision.kind) {
        case 'answer':
          if (!options.includes(decision.value)) return reject(`${JSON.stringify(decision.value)} is not one of its options`);
          return value(decision.value);
        case 'allow':
          return approval ? value(APPROVE) : reject('this select is not an approval (no Approve/Deny options)');
        case 'allowAlways':
          return approval
            ? value(options.includes(APPROVE_ALWAYS) ? APPROVE_ALWAYS : APPROVE)
            : reject('this select is not an approval (no Approve/Deny options)');
        case 'deny':
          if (!approval) return reject('this select is not an approval (no Approve/Deny options)');
          return value(decision.message !== undefined && options.includes(APPROVE_ALWAYS) ? `${DENY}: ${decision.message}` : DENY);
      }
    }
    // falls through: unreachable, the switch above returns for every decision kind
    default:
      if (decision.kind === 'answer') return value(decision.value);
      return reject(`a ${request.method} dialog takes an answer or cancel`);
  }
}
