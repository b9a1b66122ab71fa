/**
 * The notices of the wire contract: what the bridge tells a client about its stream (a gap, a
 * reset, why the stream ends) and the body of every error.
 */
import * as z from 'zod';

/** Sent when events after `Last-Event-ID` were dropped from the replay window: `missedFrom`…`missedTo` (inclusive) are lost. */
export const GapNoticeSchema = z.object({
  missedFrom: z.number().int(),
  missedTo: z.number().int(),
});
export type GapNotice = z.infer<typeof GapNoticeSchema>;

/**
 * Sent when `Last-Event-ID` is ahead of the session's last `seq` (a restarted server, another
 * session under the same URL): forget what you deduplicate by; the replay window follows.
 */
export const ResetNoticeSchema = z.object({
  lastEventId: z.number().int(),
  currentSeq: z.number().int(),
});
export type ResetNotice = z.infer<typeof ResetNoticeSchema>;

/** Why the server ends a stream. */
export const CLOSE_REASONS = ['session_closed', 'session_died', 'slow_client', 'server_closing'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/**
 * The last frame of a stream the server ends: `session_closed` (events$ completed),
 * `session_died` (events$ errored; `message` says why), `slow_client` (this client fell behind
 * its buffer bound; the session goes on, reconnect to resume), `server_closing`.
 */
export const CloseNoticeSchema = z.object({
  reason: z.enum(CLOSE_REASONS),
  message: z.string(),
});
export type CloseNotice = z.infer<typeof CloseNoticeSchema>;

/** The JSON body of every error response (and of `failure` frames). `issues` for a 400 on a bad body. */
export const ErrorBodySchema = z.object({
  error: z.string(),
  code: z.string().optional(),
  issues: z.array(z.unknown()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
