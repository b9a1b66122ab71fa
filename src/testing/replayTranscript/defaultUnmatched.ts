import type { SentCommand } from '../FakeTransport.js';
import type { UnmatchedContext } from './types.js';

/**
 * The default {@link ReplayTranscriptOptions.unmatched}: answers `get_state` from the context's
 * state (with its `streaming`), ignores `extension_ui_response`, fails anything else.
 *
 * @param command The command no recorded `in` line matched.
 * @param context The state to answer from.
 * @return The frames to write.
 */
export function defaultUnmatched(command: SentCommand, context: UnmatchedContext): readonly object[] {
  const id = command.id === undefined ? {} : { id: command.id };
  if (command.type === 'get_state') {
    const data = { ...context.state, isStreaming: context.streaming, isCompacting: false };
    return [{ ...id, type: 'response', command: 'get_state', success: true, data }];
  }
  if (command.type === 'extension_ui_response') return [];
  return [
    {
      ...id,
      type: 'response',
      command: command.type,
      success: false,
      error: `pidriver replay: the transcript has no recorded answer for "${command.type}"`,
    },
  ];
}
