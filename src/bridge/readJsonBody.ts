import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import type { ErrorBody } from '../wire/notices.js';

/** A body that passed its schema, or the error response to send. */
export type BodyResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly status: number; readonly body: ErrorBody };

/**
 * Reads a request's JSON body (at most `maxBytes`) and validates it with `schema`. An empty body
 * is `{}`. A non-empty body must be `Content-Type: application/json`: that also keeps other
 * sites' plain HTML forms out (they can only send simple content types, without a preflight).
 * A body a framework already parsed (`req.body`, e.g. `express.json()`) is used as it is.
 *
 * @param req The request.
 * @param schema The body's schema.
 * @param maxBytes Largest body accepted (413 beyond).
 * @return The parsed value, or a 400 (`{ error, issues }`), 413 or 415 to send.
 * @throws when the request closes before its body ended (the client left).
 */
export async function readJsonBody<S extends z.ZodType>(req: IncomingMessage, schema: S, maxBytes: number): Promise<BodyResult<z.output<S>>> {
  const preParsed = (req as { body?: unknown }).body;
  let json: unknown;
  if (preParsed !== undefined && !(typeof preParsed === 'string' || preParsed instanceof Uint8Array)) {
    json = preParsed;
  } else {
    const text = preParsed === undefined ? await readText(req, maxBytes) : Buffer.from(preParsed).toString('utf8');
    if (text === undefined) return { ok: false, status: 413, body: { error: `request body larger than ${maxBytes} bytes` } };
    if (text.trim().length === 0) {
      json = {};
    } else {
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
        return { ok: false, status: 415, body: { error: `expected Content-Type: application/json, got ${type || 'none'}` } };
      }
      try {
        json = JSON.parse(text);
      } catch (error) {
        return { ok: false, status: 400, body: { error: `invalid JSON: ${(error as Error).message}`, issues: [] } };
      }
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message, code: issue.code }));
    const first = issues[0];
    return { ok: false, status: 400, body: { error: `invalid body${first ? `: ${first.path ? `${first.path}: ` : ''}${first.message}` : ''}`, issues } };
  }
  return { ok: true, value: parsed.data };
}

function readText(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    if (req.destroyed && !req.readableEnded) {
      reject(new Error('the request closed before its body ended'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > maxBytes) {
        // Too large: stop reading and answer now (the caller closes the connection after the 413).
        req.off('data', onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(buffer);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    // The client left mid-body: settle (a no-op after 'end'), so nothing waits forever.
    req.once('close', () => reject(new Error('the request closed before its body ended')));
  });
}
