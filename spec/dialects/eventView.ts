/**
 * A dialect-neutral view of session events (used by the golden cross-dialect test and the e2e suites).
 */
/**
 * What user code sees of a session's events, for comparing dialects: event types in order,
 * texts (deltas joined per message), tool names and `isError`, request kinds, run results.
 * It leaves out the deliberate differences between dialects:
 * - tool *output* text: omp's bash appends `Wall time: … seconds` (and its read tool numbers
 *   lines), so a tool's result and the fake model's echo of it (`Tool said: …`) differ;
 * - how much text streamed before an abort landed (timing);
 * - where an approval request sits: pidriver's extension asks from pi's `tool_call` hook, which
 *   runs after `tool_start`; omp asks before it starts the tool. The view puts the request first;
 * - `ui_notice`/`unknown` frames omp sends on its own (`setWidget autoresearch`,
 *   `available_commands_update`);
 * - `queue_update`: pi reports its steering/follow-up queues, omp has no such event.
 */
export function eventView(events: readonly EventLike[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const event of events) {
    const last = out.at(-1);
    switch (event.type) {
      case 'ui_notice':
      case 'unknown':
      case 'queue_update':
        break;
      case 'message_delta':
        if (last?.['type'] === 'message_delta' && last['channel'] === event['channel']) last['text'] = `${String(last['text'])}${String(event['text'])}`;
        else out.push({ type: 'message_delta', channel: event['channel'], text: event['text'] });
        break;
      case 'tool_update':
        if (last?.['type'] !== 'tool_update') out.push({ type: 'tool_update', name: event['name'] });
        break;
      case 'user_message':
        out.push({ type: event.type, text: event['text'] });
        break;
      case 'message_complete':
        out.push({ type: event.type, channel: event['channel'], stopReason: event['stopReason'], text: event['text'] });
        break;
      case 'tool_start':
        out.push({ type: event.type, name: event['name'] });
        break;
      case 'tool_end':
        out.push({ type: event.type, name: event['name'], isError: event['isError'] });
        break;
      case 'interaction_request': {
        const request = { type: event.type, kind: event['kind'], toolName: event['toolName'], approve: (event['options'] as string[]).includes('Approve') };
        if (last?.['type'] === 'tool_start' && last['name'] === event['toolName']) out.splice(out.length - 1, 0, request);
        else out.push(request);
        break;
      }
      case 'agent_end':
        out.push({ type: event.type, reason: event['reason'], text: event['finalText'] });
        break;
      case 'error':
        out.push({ type: event.type, code: event['code'] });
        break;
      default:
        out.push({ type: event.type });
    }
  }
  // Texts: an aborted message's is however far the stream got; a tool echo's depends on the tool; long ones by length.
  let aborted = false;
  for (let index = out.length - 1; index >= 0; index--) {
    const event = out[index] as Record<string, unknown>;
    if (event['type'] === 'agent_end') aborted = event['reason'] === 'cancelled';
    if (event['type'] === 'message_complete') aborted = event['stopReason'] === 'aborted';
    if (typeof event['text'] !== 'string') continue;
    event['text'] = aborted && event['type'] !== 'user_message' ? ABORTED : shortText(event['text']);
  }
  return out;
}

/** An event as `events$` emits it, or as a golden file stores it. */
export type EventLike = { readonly type: string } & Readonly<Record<string, unknown>>;

const ABORTED = '<text streamed before the abort>';

function shortText(text: string): string {
  if (text.startsWith('Tool said: ')) return 'Tool said: …';
  return text.length > 200 ? `<${text.length} chars: ${text.slice(0, 20)}…>` : text;
}
