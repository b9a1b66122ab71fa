/**
 * Decision constructors, and the coercion of host answers ({@link DecisionInput}) into decisions
 * that fit a given request.
 *
 * The constructors return frozen objects, so a decision can be shared and compared safely.
 */
import { PiPolicyError } from '../errors.js';
import type { InteractionRequest } from '../protocol/events.js';
import type { AllowAlwaysDecision, AllowDecision, AnswerDecision, CancelDecision, Decision, DecisionInput, DeferDecision, DenyDecision } from './types.js';

const ALLOW: AllowDecision = Object.freeze({ kind: 'allow' });
const ALLOW_ALWAYS: AllowAlwaysDecision = Object.freeze({ kind: 'allowAlways' });
const DENY: DenyDecision = Object.freeze({ kind: 'deny' });
const CANCEL: CancelDecision = Object.freeze({ kind: 'cancel' });
const DEFER: DeferDecision = Object.freeze({ kind: 'defer' });

/** The option labels of an approval `select` (omp's built-in approvals and pidriver's extension). */
const APPROVE = 'Approve';
const APPROVE_ALWAYS = 'Approve always';
const DENY_LABEL = 'Deny';

/**
 * Approves a permission request.
 *
 * @return A frozen {@link AllowDecision}.
 * @see {@link allowAlways}
 */
export function allow(): AllowDecision {
  return ALLOW;
}

/**
 * Approves a permission request and asks not to be asked again for this tool in this session
 * (`Approve always` on pidriver's approval extension; a plain approval elsewhere).
 *
 * @return A frozen {@link AllowAlwaysDecision}.
 * @see {@link allow}
 */
export function allowAlways(): AllowAlwaysDecision {
  return ALLOW_ALWAYS;
}

/**
 * Refuses a permission request.
 *
 * @param message Why; shown to the agent when the dialect supports it (pidriver's extension does,
 *   omp's built-in approvals and a plain `confirm` don't).
 * @return A frozen {@link DenyDecision}.
 */
export function deny(message?: string): DenyDecision {
  return message === undefined ? DENY : Object.freeze({ kind: 'deny', message });
}

/**
 * Answers a question, choice, input or editor request.
 *
 * @param value The text (for a choice: one of its options).
 * @return A frozen {@link AnswerDecision}.
 */
export function answer(value: string): AnswerDecision {
  return Object.freeze({ kind: 'answer', value });
}

/**
 * Dismisses a request: pi sees a cancelled dialog (`false` for a confirm, nothing for the rest).
 *
 * @return A frozen {@link CancelDecision}.
 */
export function cancel(): CancelDecision {
  return CANCEL;
}

/**
 * Leaves a request to the host, who answers it with `session.respond()`.
 *
 * @return A frozen {@link DeferDecision}.
 */
export function defer(): DeferDecision {
  return DEFER;
}

/**
 * Whether a value is a well-formed {@link Decision} (a known `kind`, and a string `value` or
 * `message` where the kind has one).
 *
 * @param value Anything.
 * @return True for a decision.
 */
export function isDecision(value: unknown): value is Decision {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, message, value: text } = value as { kind?: unknown; message?: unknown; value?: unknown };
  switch (kind) {
    case 'allow':
    case 'allowAlways':
    case 'cancel':
    case 'defer':
      return true;
    case 'deny':
      return message === undefined || typeof message === 'string';
    case 'answer':
      return typeof text === 'string';
    default:
      return false;
  }
}

/**
 * Turns a host's answer into the {@link Decision} it stands for, for one request, or throws.
 *
 * The rules (nothing is guessed):
 * - `undefined` → {@link cancel}, for any kind;
 * - `true` / `false` → {@link allow} / {@link deny}, for a `permission` only;
 * - a string: for a `permission`, it must name one of the request's options (`Approve` → allow,
 *   `Approve always` → allowAlways, `Deny` → deny, any other option → an answer with that
 *   label); for a `choice`, it must equal one of the options; for `question`, `input` and
 *   `editor` it is the free-text answer;
 * - a number: for a `choice` only, the option at that index (an integer in range);
 * - a {@link Decision} passes through when it fits: `allow`, `allowAlways` and `deny` only for a
 *   `permission`; `answer` for a `choice` (and a `permission`) only with one of the options;
 *   `cancel` and `defer` for any kind.
 *
 * ## Example
 * ```ts
 * coerceDecision(choiceRequest, 1);          // answer('green') for options red/green/blue
 * coerceDecision(permissionRequest, false);  // deny()
 * coerceDecision(questionRequest, true);     // throws PiPolicyError
 * ```
 *
 * @param request The request being answered.
 * @param input The host's answer.
 * @return A decision that fits the request.
 * @throws {PiPolicyError} when the input does not fit the request.
 * @see {@link toUiResponse}
 */
export function coerceDecision(request: InteractionRequest, input: DecisionInput): Decision {
  const reject = (reason: string): never => {
    throw new PiPolicyError(request.requestId, `Invalid answer for ${request.kind} request ${request.requestId}: ${reason}`);
  };
  const options = request.options;
  const listed = (): string => (options.length === 0 ? 'it has none' : `options are ${options.map((o) => JSON.stringify(o)).join(', ')}`);

  if (input === undefined) return CANCEL;

  if (typeof input === 'boolean') {
    if (request.kind !== 'permission') {
      return reject(`true/false only answer a permission request; use a string${request.kind === 'choice' ? ', an option index' : ''} or a Decision`);
    }
    return input ? ALLOW : DENY;
  }

  if (typeof input === 'string') {
    switch (request.kind) {
      case 'permission':
        if (!options.includes(input)) {
          return reject(`the string ${JSON.stringify(input)} is not one of its options (${listed()}); use true/false, allow() or deny()`);
        }
        if (input === APPROVE) return ALLOW;
        if (input === APPROVE_ALWAYS) return ALLOW_ALWAYS;
        if (input === DENY_LABEL) return DENY;
        return answer(input);
      case 'choice':
        if (!options.includes(input)) return reject(`${JSON.stringify(input)} is not one of its options (${listed()})`);
        return answer(input);
      default:
        return answer(input);
    }
  }

  if (typeof input === 'number') {
    if (request.kind !== 'choice') return reject('a number (an option index) only answers a choice request');
    if (!Number.isInteger(input) || input < 0 || input >= options.length) {
      return reject(`option index ${input} is not an integer from 0 to ${options.length - 1}`);
    }
    return answer(options[input] as string);
  }

  if (!isDecision(input)) return reject(`${describe(input)} is neither a Decision, a boolean, a string, a number nor undefined`);

  switch (input.kind) {
    case 'cancel':
      return CANCEL;
    case 'defer':
      return DEFER;
    case 'allow':
    case 'allowAlways':
    case 'deny':
      if (request.kind !== 'permission') return reject(`${input.kind} only answers a permission request; use answer() or cancel()`);
      if (input.kind === 'deny') return deny(input.message);
      return input.kind === 'allow' ? ALLOW : ALLOW_ALWAYS;
    case 'answer':
      if ((request.kind === 'permission' || request.kind === 'choice') && !options.includes(input.value)) {
        return reject(`answer ${JSON.stringify(input.value)} is not one of its options (${listed()})`);
      }
      return answer(input.value);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
