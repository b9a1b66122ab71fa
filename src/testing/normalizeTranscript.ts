/**
 * Normalising transcripts and events for golden files: machine-specific values (ports, temp
 * dirs, uuids, timestamps, secrets) become stable placeholders.
 */
import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { PiEvent } from '../protocol/events.js';
import type { TranscriptRecord } from './recordTranscript.js';

/** What replaces a secret (the config's `apiKey`, or {@link NormalizeOptions.secrets}). */
export const REDACTED_PLACEHOLDER = '<redacted>';
/** What replaces a loopback port (e.g. the fake LLM server's). */
export const PORT_PLACEHOLDER = '<port>';
/** What replaces a timestamp: an epoch-ms number becomes the JSON string `"<ts>"`, an ISO date-time the text `<ts>`. */
export const TIMESTAMP_PLACEHOLDER = '<ts>';

/** Options of {@link TranscriptNormalizer} and {@link normalizeTranscript}. */
export interface NormalizeOptions {
  /** Strings never to write (replaced with `<redacted>`, also in their JSON-escaped form). */
  readonly secrets?: readonly string[];
  /**
   * Ports to replace with `<port>` after any host. Ports of 1024 and up after a loopback host
   * (`127.0.0.1`, `localhost`, `[::1]`, `0.0.0.0`) are replaced anyway.
   */
  readonly ports?: readonly number[];
  /**
   * Temp roots: each directory directly under one becomes `<tmp-N>` (numbered in order of first
   * appearance). Default: `os.tmpdir()`, its real path, and `/tmp`.
   */
  readonly tmpRoots?: readonly string[];
  /** Extra replacements, applied in order before the built-in ones (after secrets). */
  readonly replace?: readonly (readonly [string | RegExp, string])[];
  /** Replace uuids with `<uuid-N>` (numbered in order of first appearance). Default true. */
  readonly uuids?: boolean;
  /** Replace epoch-ms JSON values and ISO date-times with `<ts>`. Default true. */
  readonly timestamps?: boolean;
}

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const LOOPBACK_PORT = /(?<![\w.-])(127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\]):(\d{4,5})(?!\d)/g;
const ISO_DATE_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}[:-]\d{2}[:-]\d{2}(?:[.-]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})/g;
/** An epoch-ms number (years 2001–2033) as the value of a JSON key: `"timestamp":1764054123456`. */
const EPOCH_MS_VALUE = /((?<!\\)"\s*:\s*)1\d{12}(?:\.\d+)?(?![\d.eE])/g;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Replaces machine-specific values in transcript text with stable placeholders. It is stateful:
 * the same uuid or temp dir gets the same number throughout one transcript, so use one
 * normaliser per file.
 *
 * - secrets → `<redacted>`;
 * - `127.0.0.1:41234` → `127.0.0.1:<port>`;
 * - `/tmp/pidriver-x1Yz/work/a.txt` → `<tmp-1>/work/a.txt`;
 * - uuids → `<uuid-1>`, `<uuid-2>`, …;
 * - `"timestamp":1764054123456` → `"timestamp":"<ts>"`, `2026-11-24T13:54:54.366Z` → `<ts>`.
 *
 * ## Example
 * ```ts
 * const normalizer = new TranscriptNormalizer({ secrets: [apiKey] });
 * normalizer.text('{"id":"0ac7ba9c-a733-4cb6-a3bd-3f39724be64a"}'); // '{"id":"<uuid-1>"}'
 * ```
 */
export class TranscriptNormalizer {
  readonly #secrets = new Set<string>();
  readonly #options: NormalizeOptions;
  readonly #tmpPattern: RegExp | undefined;
  readonly #explicitPorts: RegExp | undefined;
  readonly #uuids = new Map<string, string>();
  readonly #tmpDirs = new Map<string, string>();

  constructor(options: NormalizeOptions = {}) {
    this.#options = options;
    for (const secret of options.secrets ?? []) this.addSecret(secret);
    const roots = [...new Set((options.tmpRoots ?? defaultTmpRoots()).map((root) => root.replace(/\/+$/, '')))]
      .filter((root) => root.length > 1)
      .sort((a, b) => b.length - a.length);
    this.#tmpPattern = roots.length > 0 ? new RegExp(`(?<![\\w.~/-])(?:${roots.map(escapeRegExp).join('|')})/[^/\\s"'\\\\<>:]+`, 'g') : undefined;
    const ports = options.ports ?? [];
    this.#explicitPorts = ports.length > 0 ? new RegExp(`([\\w.\\]]):(?:${ports.join('|')})(?!\\d)`, 'g') : undefined;
  }

  /** Adds a secret to redact from now on (e.g. the config's `apiKey`, known only at spawn time). */
  addSecret(secret: string): void {
    if (secret.length === 0) return;
    this.#secrets.add(secret);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) this.#secrets.add(escaped);
  }

  /** Normalises one piece of text (a wire line, a stderr line, a note). */
  text(value: string): string {
    let text = value;
    for (const secret of this.#secrets) if (text.includes(secret)) text = text.split(secret).join(REDACTED_PLACEHOLDER);
    for (const [pattern, replacement] of this.#options.replace ?? []) {
      text = typeof pattern === 'string' ? text.split(pattern).join(replacement) : text.replace(pattern, replacement);
    }
    if (this.#tmpPattern) text = text.replace(this.#tmpPattern, (dir) => this.#number(this.#tmpDirs, dir, 'tmp'));
    text = text.replace(LOOPBACK_PORT, (match, host: string, port: string) => (Number(port) >= 1024 ? `${host}:${PORT_PLACEHOLDER}` : match));
    if (this.#explicitPorts) text = text.replace(this.#explicitPorts, (_, before: string) => `${before}:${PORT_PLACEHOLDER}`);
    if (this.#options.uuids !== false) text = text.replace(UUID, (uuid) => this.#number(this.#uuids, uuid.toLowerCase(), 'uuid'));
    if (this.#options.timestamps !== false) {
      text = text.replace(ISO_DATE_TIME, TIMESTAMP_PLACEHOLDER);
      text = text.replace(EPOCH_MS_VALUE, (_, key: string) => `${key}"${TIMESTAMP_PLACEHOLDER}"`);
    }
    return text;
  }

  /** Normalises the text fields of one record (`line`, `note`, and any string field of notes and `llm` records). */
  record(record: TranscriptRecord): TranscriptRecord {
    switch (record.dir) {
      case 'in':
      case 'out':
      case 'err':
        return { ...record, line: this.text(record.line) };
      case 'exit':
        return record;
      default:
        return this.#deep(record) as TranscriptRecord;
    }
  }

  #deep(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((item: unknown) => this.#deep(item));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, key === 'dir' ? item : this.#deep(item)]));
    }
    return value;
  }

  #number(map: Map<string, string>, key: string, prefix: string): string {
    let placeholder = map.get(key);
    if (placeholder === undefined) {
      placeholder = `<${prefix}-${map.size + 1}>`;
      map.set(key, placeholder);
    }
    return placeholder;
  }
}

/**
 * Normalises a whole transcript with one {@link TranscriptNormalizer} (stable numbering across
 * its records). Use it to check in a transcript recorded without normalisation.
 *
 * @param records The records, in order.
 * @param options What to replace.
 * @return New records; the input is not changed.
 */
export function normalizeTranscript(records: readonly TranscriptRecord[], options: NormalizeOptions = {}): TranscriptRecord[] {
  const normalizer = new TranscriptNormalizer(options);
  return records.map((record) => normalizer.record(record));
}

function defaultTmpRoots(): string[] {
  const roots = [tmpdir(), '/tmp'];
  try {
    if (existsSync(tmpdir())) roots.push(realpathSync(tmpdir()));
  } catch {
    // an unreadable tmpdir: the plain path is enough
  }
  return roots;
}

/** Options of {@link snapshotEvents}. */
export interface SnapshotOptions {
  /** Strings longer than this are cut (with a `…(+N chars)` marker). Default 500. */
  readonly maxStringLength?: number;
  /** Fields to drop besides `raw` and `cwd`. */
  readonly omit?: readonly string[];
}

/**
 * A stable, JSON-ready projection of session events for snapshot and golden tests: every field
 * except `raw` (the wire frame) and `cwd` (machine-specific), `UsageTotals` as plain numbers,
 * long strings cut, and `unknown` events without their (often large) `line`.
 *
 * ## Example
 * ```ts
 * expect(snapshotEvents(events)).toEqual(JSON.parse(await readFile('golden.json', 'utf8')));
 * ```
 *
 * @param events Events as `events$` emitted them.
 * @param options Cut long strings, drop more fields.
 * @return One plain object per event.
 */
export function snapshotEvents(events: readonly PiEvent[], options: SnapshotOptions = {}): Record<string, unknown>[] {
  const max = options.maxStringLength ?? 500;
  const omit = new Set(['raw', 'cwd', ...(options.omit ?? [])]);
  return events.map((event) => {
    const entries = Object.entries(event).filter(([key]) => !omit.has(key) && !(event.type === 'unknown' && key === 'line'));
    return plain(Object.fromEntries(entries), max) as Record<string, unknown>;
  });
}

function plain(value: unknown, max: number): unknown {
  if (typeof value === 'string') return value.length > max ? `${value.slice(0, max)}…(+${value.length - max} chars)` : value;
  if (Array.isArray(value)) return value.map((item: unknown) => plain(item, max));
  if (typeof value === 'object' && value !== null) {
    const json: unknown = 'toJSON' in value && typeof value.toJSON === 'function' ? (value.toJSON as () => unknown)() : value;
    if (typeof json !== 'object' || json === null) return plain(json, max);
    return Object.fromEntries(
      Object.entries(json)
        .filter(([, item]) => item !== undefined)
        .map(([key, item]) => [key, plain(item, max)]),
    );
  }
  return value;
}
