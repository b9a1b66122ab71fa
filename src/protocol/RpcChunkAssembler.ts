/**
 * Reassembles omp's protocol-v2 `rpc_chunk` sequences into the one JSON
 * line they carry: omp splits a frame too large for one line into numbered base64 pieces.
 */
import type { FrameOf } from './frames.js';

/** What one chunk did: nothing yet, completed a frame (its JSON text), or broke a sequence. */
export type ChunkOutcome =
  { readonly kind: 'pending' } | { readonly kind: 'frame'; readonly line: string } | { readonly kind: 'error'; readonly message: string };

const PENDING: ChunkOutcome = Object.freeze({ kind: 'pending' });

interface Sequence {
  readonly chunkId: string;
  readonly count: number;
  readonly byteLength: number | undefined;
  readonly parts: Buffer[];
  bytes: number;
}

/**
 * omp splits a frame over its 1 MiB line limit into consecutive `rpc_chunk` frames (256 KiB of
 * base64 each) once protocol v2 is negotiated. They arrive strictly in order and never
 * interleave; the payload is UTF-8 JSON. A sequence that breaks those rules is dropped (one
 * error, later chunks of it ignored) and the stream goes on.
 */
export class RpcChunkAssembler {
  readonly #maxBytes: number;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  #current: Sequence | undefined;
  #broken: string | undefined;

  /** @param maxBytes Largest reassembled frame (omp's `maxReassembledFrameBytes`, 64 MiB). */
  constructor(maxBytes = 64 * 1024 * 1024) {
    this.#maxBytes = maxBytes;
  }

  /** True while a sequence is incomplete. */
  get pending(): boolean {
    return this.#current !== undefined;
  }

  push(chunk: FrameOf<'rpc_chunk'>): ChunkOutcome {
    if (chunk.chunkId === this.#broken) return PENDING;
    if (chunk.index !== 0) return this.#append(chunk);
    // A first chunk starts a new sequence; one still open is lost (its late chunks are ignored).
    const abandoned = this.#current;
    this.#current = { chunkId: chunk.chunkId, count: chunk.count, byteLength: chunk.byteLength ?? undefined, parts: [], bytes: 0 };
    this.#broken = abandoned?.chunkId;
    const outcome = this.#append(chunk);
    if (abandoned && outcome.kind === 'pending') {
      return { kind: 'error', message: `rpc_chunk ${abandoned.chunkId} was abandoned after ${abandoned.parts.length} of ${abandoned.count} chunks` };
    }
    return outcome;
  }

  #append(chunk: FrameOf<'rpc_chunk'>): ChunkOutcome {
    const current = this.#current;
    if (!current || current.chunkId !== chunk.chunkId || chunk.index !== current.parts.length || chunk.count !== current.count) {
      const message = `rpc_chunk out of order: got chunk ${chunk.index} of ${chunk.chunkId}, expected ${current ? `chunk ${current.parts.length} of ${current.chunkId}` : 'a first chunk (index 0)'}`;
      if (current?.chunkId === chunk.chunkId) return this.#fail(message); // the open sequence is broken
      this.#broken = chunk.chunkId; // a stray chunk: drop its sequence, keep the open one
      return { kind: 'error', message };
    }
    const part = Buffer.from(chunk.data, 'base64');
    current.parts.push(part);
    current.bytes += part.length;
    if (current.bytes > this.#maxBytes) return this.#fail(`rpc_chunk ${current.chunkId} exceeds ${this.#maxBytes} bytes`);
    if (current.parts.length < current.count) return PENDING;
    this.#current = undefined;
    if (current.byteLength !== undefined && current.byteLength !== current.bytes) {
      this.#broken = current.chunkId;
      return { kind: 'error', message: `rpc_chunk ${current.chunkId}: ${current.bytes} bytes, announced ${current.byteLength}` };
    }
    try {
      return { kind: 'frame', line: this.#decoder.decode(Buffer.concat(current.parts, current.bytes)) };
    } catch {
      this.#broken = current.chunkId;
      return { kind: 'error', message: `rpc_chunk ${current.chunkId} is not valid UTF-8` };
    }
  }

  #fail(message: string): ChunkOutcome {
    if (this.#current) {
      this.#broken = this.#current.chunkId;
      this.#current = undefined;
    }
    return { kind: 'error', message };
  }
}
