/**
 * `pidriver/protocol`: the zod schemas of pi's wire frames and of pidriver's events, for apps
 * that validate frames or events themselves (e.g. events that crossed a network).
 *
 * @packageDocumentation
 * @module pidriver/protocol
 */
export * from './frames.js';
export * from './events.js';
export { UsageTotalsJSONSchema, UsageTotalsSchema } from './UsageTotalsSchema.js';
export * from './commands.js';
export { parseLine } from './parseLine.js';
export type { ParsedLine } from './parseLine.js';
export { capabilitiesOf, describeDialect, DIALECT_NAMES, unsupportedCommandHint, versionAtLeast } from './dialects.js';
export type { Capabilities } from './dialects.js';
export { RpcChunkAssembler } from './RpcChunkAssembler.js';
export type { ChunkOutcome } from './RpcChunkAssembler.js';
