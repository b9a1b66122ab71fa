import { parseRecord, readTranscript, type TranscriptRecord } from '../recordTranscript.js';
import { ReplayTransport } from './ReplayTransport.js';
import type { ReplayTranscriptOptions } from './types.js';

/**
 * Plays a transcript back to a session: a {@link ReplayTransport} (a `PiTransport`) for tests
 * without pi. Hand it to the client with its `transportFactory`, then drive the session as the
 * recording did; the replay answers each command with what pi printed after it.
 *
 * - Recorded `in` lines are matched in order to the session's sends by command `type`; ids are
 *   rewritten (recorded id → the session's) in the responses. `in` lines no session can write
 *   (not a JSON object with a string `type`) are skipped.
 * - The `out` lines recorded after an `in` are released once it is matched; the session's extra
 *   `get_state` commands (it sends one after each `agent_end`) get a synthesized answer from the
 *   last recorded `get_state` data, with `isStreaming: false` whenever the recorded pi was idle
 *   at that point (after an `agent_end`), `true` inside a recorded run (so a `get_state` sent
 *   between a prompt's response and its `agent_start` doesn't end the run early).
 * - `err` lines feed `stderrTail` and `onStderr`; an `exit` record ends stdout and resolves
 *   `exited` with the recorded code and signal; a `close stdin` note waits for `close()`.
 * - `"<ts>"` placeholders (see {@link TranscriptNormalizer}) become epoch-ms numbers again.
 *
 * ## Example
 * ```ts
 * const replay = replayTranscript('spec/fixtures/pi-b-text.jsonl');
 * const session = await new PiClient({ transportFactory: replay.transportFactory }).start({ cwd, approve: 'none' });
 * const result = await session.prompt('scenario:text Say hello'); // answered from the recording
 * await session.close();
 * expect(replay.deviations).toEqual([]);
 * ```
 *
 * @param source A transcript path, or its records or JSONL lines.
 * @param options Timing, synthesized answers.
 * @return The transport, with `transportFactory`, `idle()`, `skip()`, `sent` and `deviations`.
 * @throws {Error} when the transcript can't be read or a line is not a record.
 * @see {@link recordTranscript}
 */
export function replayTranscript(source: string | readonly (string | TranscriptRecord)[], options: ReplayTranscriptOptions = {}): ReplayTransport {
  if (typeof source === 'string') return new ReplayTransport(readTranscript(source), { name: source, ...options });
  const name = options.name ?? 'transcript';
  const records = source.map((item, index) => (typeof item === 'string' ? parseRecord(item, `${name}:${index + 1}`) : item));
  return new ReplayTransport(records, options);
}
