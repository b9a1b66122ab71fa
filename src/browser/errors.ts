import { PiDriverError } from '../errors.js';
import type { ErrorBody } from '../wire/notices.js';

/**
 * The bridge answered with an HTTP error: `status` and the server's JSON body (`error`, `code`,
 * `issues` for a 400). A 4xx other than 408/429 is not retried.
 */
export class BridgeHttpError extends PiDriverError {
  readonly status: number;
  readonly body: ErrorBody | undefined;

  constructor(status: number, body: ErrorBody | undefined, url: string) {
    super(`${url} answered ${status}${body?.error ? `: ${body.error}` : ''}`, { code: body?.code ?? 'PI_BRIDGE_HTTP' });
    this.status = status;
    this.body = body;
  }
}
BridgeHttpError.prototype.name = 'BridgeHttpError';

/**
 * A stream from the bridge ended or failed before the server closed it on purpose (a network
 * drop, a restarted server, or the server dropping this client as too slow). Event streams
 * reconnect after it; a `prompt$` stream fails with it.
 */
export class ConnectionLostError extends PiDriverError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause, code: 'PI_CONNECTION_LOST' });
  }
}
ConnectionLostError.prototype.name = 'ConnectionLostError';

/** True for errors a reconnect may cure: lost connections, network failures, 5xx, 408 and 429. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof BridgeHttpError) return error.status >= 500 || error.status === 408 || error.status === 429;
  if (error instanceof PiDriverError) return error instanceof ConnectionLostError;
  return true; // fetch's TypeError for a network failure, and anything unexpected from the stream
}
