/**
 * Interaction policies: RxJS operators from interaction requests (each with its signal) to
 * answers, the decision vocabulary, and the wire encoding of answers.
 */
export type {
  AllowAlwaysDecision,
  AllowDecision,
  AnswerDecision,
  CancelDecision,
  Decision,
  DecisionInput,
  DecisionKind,
  DeferDecision,
  DenyDecision,
  Policy,
  PolicyAnswer,
  PolicyContext,
  PolicyRequest,
  PolicySession,
} from './types.js';
export { allow, allowAlways, answer, cancel, coerceDecision, defer, deny, isDecision } from './decisions.js';
export { toUiResponse } from './toUiResponse.js';
export { askHost } from './askHost.js';
export type { AskHostOptions, HostCallback } from './askHost.js';
export { autoApprove } from './autoApprove.js';
export type { AutoApproveOptions } from './autoApprove.js';
export { denyAll } from './denyAll.js';
export { chain } from './chain.js';
export { allowTools } from './allowTools.js';
export { denyTools } from './denyTools.js';
export type { ToolMatcher } from './denyTools.js';
export { byKind } from './byKind.js';
export type { PoliciesByKind } from './byKind.js';
export { timeoutDecision } from './timeoutDecision.js';
export type { TimeoutDecisionOptions } from './timeoutDecision.js';
export { decisionTimeout$ } from './decisionTimeout.js';
export { auditLog } from './auditLog.js';
export type { AuditEntry, AuditLogOptions } from './auditLog.js';
export { rememberAlways } from './rememberAlways.js';
