import { redactSecrets, redactSecretsAndTail } from './redactSecrets.js';

/**
 * Keeps the last lines of pi's stderr for error messages, bounded in lines and bytes, and
 * forwards complete lines to a callback. A 10 MB stderr flood costs constant memory. Secrets
 * given to {@link redacting} are masked in both.
 */
export class StderrTail {
  readonly #maxLines: number;
  readonly #maxChars: number;
  #lines: string[] = [];
  #partial = '';
  readonly #decoder = new TextDecoder('utf-8');
  #secrets: readonly string[] = [];

  constructor(maxLines = 40, maxChars = 8 * 1024) {
    this.#maxLines = maxLines;
    this.#maxChars = maxChars;
  }

  /**
   * From now on, replaces each of `secrets` with `***` in the lines handed on and in the tail
   * (see `redactSecrets.ts`).
   */
  redacting(secrets: readonly string[]): void {
    this.#secrets = secrets;
  }

  /** `text` with the secrets masked. */
  redact(text: string): string {
    return redactSecrets(text, this.#secrets);
  }

  push(chunk: Uint8Array, onLine?: (line: string) => void): void {
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    const pieces = text.split('\n');
    // Masked before it is cut, so the cut never leaves part of a secret behind (one still
    // unfinished at the end is masked when its line is complete).
    this.#partial = this.redact(pieces.pop() ?? '').slice(-this.#maxChars);
    for (const piece of pieces) {
      const line = this.redact(piece.endsWith('\r') ? piece.slice(0, -1) : piece);
      this.#remember(line);
      onLine?.(line);
    }
  }

  /** The tail, newest last, including an unterminated last line. */
  get text(): string {
    const partial = redactSecretsAndTail(this.#partial, this.#secrets);
    const lines = partial ? [...this.#lines, partial] : this.#lines;
    const joined = lines.join('\n');
    return joined.length > this.#maxChars ? joined.slice(-this.#maxChars) : joined;
  }

  #remember(line: string): void {
    this.#lines.push(line.length > this.#maxChars ? `${line.slice(0, this.#maxChars)}…` : line);
    if (this.#lines.length > this.#maxLines) this.#lines.splice(0, this.#lines.length - this.#maxLines);
  }
}
