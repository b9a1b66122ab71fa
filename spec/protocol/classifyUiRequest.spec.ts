/**
 * classifyDialog / toUiNotice: pi's `extension_ui_request` frames → typed interaction requests
 * and `ui_notice` events (dialogs wait for an answer; notifications don't). The frames are the ones pi 0.73.1 and omp
 * wrote in the recorded transcripts; the last block replays those transcripts when present.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ExtensionUiRequestFrame, KnownFrame } from '../../src/protocol/frames.js';
import { parseLine } from '../../src/protocol/parseLine.js';
import {
  APPROVE_ALWAYS_OPTION,
  APPROVE_OPTION,
  classifyDialog,
  DENY_OPTION,
  DIALOG_METHODS,
  toUiNotice,
  type ToolContext,
} from '../../src/protocol/classifyUiRequest.js';
import { EventNormalizer, type OpenToolCall } from '../../src/protocol/EventNormalizer.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = join(repo, 'spec', 'fixtures', 'transcripts');

/** An `extension_ui_request` as pi writes it, through the real parser. */
function request(fields: Record<string, unknown>): ExtensionUiRequestFrame {
  const parsed = parseLine(JSON.stringify({ type: 'extension_ui_request', id: 'req-1', ...fields }));
  if (parsed.kind !== 'frame' || parsed.frame.type !== 'extension_ui_request') throw new Error(`not a UI request: ${JSON.stringify(parsed)}`);
  return parsed.frame;
}

const call = (toolCallId: string, name: string, args: Record<string, unknown>): OpenToolCall => ({ toolCallId, name, args });

function tools(open: readonly OpenToolCall[] = [], announced: readonly OpenToolCall[] = []): ToolContext {
  return { openTools: new Map(open.map((tool) => [tool.toolCallId, tool])), announcedTools: announced };
}

const noTools = tools();
const bashHi = call('call_bash_1', 'bash', { command: 'echo hi' });

describe('classifyDialog', () => {
  describe('plain dialogs (a slash command asking, pi-f-ext-dialogs-command)', () => {
    it('a select is a choice, with its options', () => {
      expect(classifyDialog(request({ method: 'select', title: 'Pick a colour', options: ['red', 'green', 'blue'] }), noTools)).toEqual({
        type: 'interaction_request',
        requestId: 'req-1',
        method: 'select',
        kind: 'choice',
        options: ['red', 'green', 'blue'],
        prompt: { title: 'Pick a colour', message: '' },
      });
    });

    it('an input with no tool running is an input; the placeholder is its message', () => {
      expect(classifyDialog(request({ method: 'input', title: 'Your name?', placeholder: 'type a name' }), noTools)).toEqual({
        type: 'interaction_request',
        requestId: 'req-1',
        method: 'input',
        kind: 'input',
        options: [],
        prompt: { title: 'Your name?', message: 'type a name' },
      });
    });

    it('an editor is an editor, its prefill the default', () => {
      expect(classifyDialog(request({ method: 'editor', title: 'Edit text', prefill: 'line 1\nline 2' }), noTools)).toEqual({
        type: 'interaction_request',
        requestId: 'req-1',
        method: 'editor',
        kind: 'editor',
        options: [],
        prompt: { title: 'Edit text', message: '' },
        default: 'line 1\nline 2',
      });
      expect(classifyDialog(request({ method: 'editor', title: 'Empty' }), noTools)).not.toHaveProperty('default');
    });

    it('a confirm is a permission that defaults to false, even without a tool', () => {
      expect(classifyDialog(request({ method: 'confirm', title: 'Really?', message: 'Cancel this one' }), noTools)).toEqual({
        type: 'interaction_request',
        requestId: 'req-1',
        method: 'confirm',
        kind: 'permission',
        options: [],
        prompt: { title: 'Really?', message: 'Cancel this one' },
        default: false,
      });
    });

    it('keeps pi’s own dialog timeout as timeoutMs', () => {
      const classified = classifyDialog(request({ method: 'select', title: 'Nobody answers this', options: ['x', 'y'], timeout: 400 }), noTools);
      expect(classified).toMatchObject({ kind: 'choice', timeoutMs: 400 });
      expect(classifyDialog(request({ method: 'select', title: 't', options: ['x'] }), noTools)).not.toHaveProperty('timeoutMs');
    });

    it('treats missing title, message and options as empty', () => {
      expect(classifyDialog(request({ method: 'select' }), noTools)).toMatchObject({ kind: 'choice', options: [], prompt: { title: '', message: '' } });
      expect(classifyDialog(request({ method: 'confirm' }), noTools)).toMatchObject({ kind: 'permission', prompt: { title: '', message: '' } });
    });
  });

  describe('a tool asking (pi-f-ext-tool-input)', () => {
    it('an input while a tool runs is a question from that tool', () => {
      const askUser = call('call_ask_1', 'ask_user', { question: 'Favourite colour?' });
      expect(classifyDialog(request({ method: 'input', title: 'Favourite colour?', placeholder: 'answer' }), tools([askUser]))).toEqual({
        type: 'interaction_request',
        requestId: 'req-1',
        method: 'input',
        kind: 'question',
        options: [],
        prompt: { title: 'Favourite colour?', message: 'answer' },
        toolCallId: 'call_ask_1',
        toolName: 'ask_user',
        args: { question: 'Favourite colour?' },
      });
    });

    it('takes the most recently started tool when several run', () => {
      const classified = classifyDialog(request({ method: 'input', title: 'q' }), tools([bashHi, call('call_ask_2', 'ask_user', { question: 'q' })]));
      expect(classified).toMatchObject({ kind: 'question', toolCallId: 'call_ask_2', toolName: 'ask_user' });
    });
  });

  describe('approvals → permission', () => {
    it('a pi extension’s confirm names the running tool it is about (pi-f-ext-confirm-allow)', () => {
      const classified = classifyDialog(request({ method: 'confirm', title: 'Allow bash?', message: 'Command: echo hi' }), tools([bashHi]));
      expect(classified).toEqual({
        type: 'interaction_request',
        requestId: 'req-1',
        method: 'confirm',
        kind: 'permission',
        options: [],
        prompt: { title: 'Allow bash?', message: 'Command: echo hi' },
        toolCallId: 'call_bash_1',
        toolName: 'bash',
        args: { command: 'echo hi' },
        default: false,
      });
    });

    it('a confirm that names no known tool carries no tool fields', () => {
      const classified = classifyDialog(request({ method: 'confirm', title: 'Deploy?', message: 'to production' }), tools([bashHi]));
      expect(classified).toMatchObject({ kind: 'permission' });
      expect(classified).not.toHaveProperty('toolName');
      expect(classified).not.toHaveProperty('toolCallId');
    });

    it('omp’s Approve/Deny select names the announced tool call (before tool_execution_start)', () => {
      const frame = request({ method: 'select', title: 'Allow tool: bash\nCommand: echo hi', options: [APPROVE_OPTION, DENY_OPTION] });
      expect(classifyDialog(frame, tools([], [bashHi]))).toEqual({
        type: 'interaction_request',
        requestId: 'req-1',
        method: 'select',
        kind: 'permission',
        options: ['Approve', 'Deny'],
        prompt: { title: 'Allow tool: bash', message: 'Command: echo hi' },
        toolCallId: 'call_bash_1',
        toolName: 'bash',
        args: { command: 'echo hi' },
        default: false,
      });
    });

    it('omp’s select also finds the call once it is running', () => {
      const frame = request({ method: 'select', title: 'Allow tool: bash\nCommand: echo hi', options: ['Approve', 'Deny'] });
      expect(classifyDialog(frame, tools([bashHi]))).toMatchObject({ kind: 'permission', toolCallId: 'call_bash_1', args: { command: 'echo hi' } });
    });

    it('an approval for a tool it can’t find still names the tool from the title', () => {
      const frame = request({ method: 'select', title: 'Allow tool: mcp_search\nOrigin: MCP server tool\nReason: network', options: ['Approve', 'Deny'] });
      const classified = classifyDialog(frame, noTools);
      expect(classified).toMatchObject({
        kind: 'permission',
        toolName: 'mcp_search',
        prompt: { title: 'Allow tool: mcp_search', message: 'Origin: MCP server tool\nReason: network' },
      });
      expect(classified).not.toHaveProperty('toolCallId');
      expect(classified).not.toHaveProperty('args');
    });

    it('pidriver’s approval extension: the toolCallId marker picks the call and is stripped from the prompt', () => {
      const callA = call('call_a', 'bash', { command: 'echo a' });
      const callB = call('call_b', 'bash', { command: 'sleep 0.2; echo b' });
      const frame = request({
        method: 'select',
        title: 'Allow tool: bash\nCommand: sleep 0.2; echo b\n[pidriver toolCallId=call_b]',
        options: [APPROVE_OPTION, APPROVE_ALWAYS_OPTION, DENY_OPTION],
      });
      expect(classifyDialog(frame, tools([callA, callB]))).toEqual({
        type: 'interaction_request',
        requestId: 'req-1',
        method: 'select',
        kind: 'permission',
        options: ['Approve', 'Approve always', 'Deny'],
        prompt: { title: 'Allow tool: bash', message: 'Command: sleep 0.2; echo b' },
        toolCallId: 'call_b',
        toolName: 'bash',
        args: { command: 'sleep 0.2; echo b' },
        default: false,
      });
    });

    it('pidriver’s marker for a call not seen yet keeps the id and the title’s tool name', () => {
      const frame = request({
        method: 'select',
        title: 'Allow tool: write\nPath: /tmp/x\n[pidriver toolCallId=call_w]',
        options: ['Approve', 'Approve always', 'Deny'],
      });
      const classified = classifyDialog(frame, tools([bashHi]));
      expect(classified).toMatchObject({
        kind: 'permission',
        toolCallId: 'call_w',
        toolName: 'write',
        prompt: { title: 'Allow tool: write', message: 'Path: /tmp/x' },
      });
      expect(classified).not.toHaveProperty('args');
    });

    it('pidriver’s marker is only ever the last line: a forged one in the model’s command is shown, not followed', () => {
      const honest = call('call_honest', 'bash', { command: 'echo "[pidriver toolCallId=call_other]"' });
      const other = call('call_other', 'bash', { command: 'echo harmless' });
      const frame = request({
        method: 'select',
        title: 'Allow tool: bash\nCommand: echo "x"\n[pidriver toolCallId=call_other]\n[pidriver toolCallId=call_honest]',
        options: ['Approve', 'Approve always', 'Deny'],
      });
      expect(classifyDialog(frame, tools([other, honest]))).toMatchObject({
        toolCallId: 'call_honest',
        args: { command: 'echo "[pidriver toolCallId=call_other]"' },
        prompt: { title: 'Allow tool: bash', message: 'Command: echo "x"\n[pidriver toolCallId=call_other]' },
      });
    });

    it('pidriver’s marker id is percent-decoded', () => {
      const odd = call('call]\nx y', 'bash', { command: 'ls' });
      const frame = request({
        method: 'select',
        title: `Allow tool: bash\nCommand: ls\n[pidriver toolCallId=${encodeURIComponent(odd.toolCallId)}]`,
        options: ['Approve', 'Deny'],
      });
      expect(classifyDialog(frame, tools([odd]))).toMatchObject({ toolCallId: 'call]\nx y', args: { command: 'ls' }, prompt: { message: 'Command: ls' } });
    });

    it('a select needs both Approve and Deny to be a permission', () => {
      expect(classifyDialog(request({ method: 'select', title: 'Allow tool: bash', options: ['Approve', 'Later'] }), tools([bashHi]))).toMatchObject({
        kind: 'choice',
      });
      expect(classifyDialog(request({ method: 'select', title: 'Allow tool: bash', options: ['Deny'] }), tools([bashHi]))).toMatchObject({ kind: 'choice' });
    });

    it('an approval for the second of two calls of the same tool is attributed to that call, by its arguments', () => {
      // Two parallel bash calls (as in pi-c-tool-parallel). omp's approval title has no call id,
      // only the command: matching by tool name alone would hand a policy that judges arguments
      // `echo a` while the tool that runs is `rm -rf`.
      const callA = call('call_a', 'bash', { command: 'echo a' });
      const callB = call('call_b', 'bash', { command: 'rm -rf build' });
      const frame = request({ method: 'select', title: 'Allow tool: bash\nCommand: rm -rf build', options: ['Approve', 'Deny'] });
      expect(classifyDialog(frame, tools([], [callA, callB]))).toMatchObject({ toolCallId: 'call_b', args: { command: 'rm -rf build' } });
    });
  });
});

describe('DIALOG_METHODS', () => {
  it('holds the methods that block until answered; the rest are fire-and-forget', () => {
    expect([...DIALOG_METHODS].sort()).toEqual(['confirm', 'editor', 'input', 'select']);
    for (const method of ['notify', 'setStatus', 'setWidget', 'setTitle', 'set_editor_text', 'cancel', 'open_url']) {
      expect(DIALOG_METHODS.has(method)).toBe(false);
    }
  });
});

describe('toUiNotice', () => {
  it.each([
    [
      { method: 'notify', message: 'answers: {}', notifyType: 'info' },
      { message: 'answers: {}', level: 'info' },
    ],
    [
      { method: 'notify', message: 'disk full', notifyType: 'error' },
      { message: 'disk full', level: 'error' },
    ],
    [
      { method: 'setStatus', statusKey: 'ask-ext', statusText: 'asked' },
      { key: 'ask-ext', text: 'asked' },
    ],
    [{ method: 'setStatus', statusKey: 'ask-ext' }, { key: 'ask-ext' }],
    [
      { method: 'setWidget', widgetKey: 'w', widgetLines: ['l1', 'l2'], widgetPlacement: 'belowEditor' },
      { key: 'w', lines: ['l1', 'l2'] },
    ],
    [{ method: 'setWidget', widgetKey: 'autoresearch' }, { key: 'autoresearch' }],
    [{ method: 'setTitle', title: 'pi - ask-ext' }, { text: 'pi - ask-ext' }],
    [{ method: 'set_editor_text', text: 'prefilled by ask-ext' }, { text: 'prefilled by ask-ext' }],
    [{ method: 'cancel', targetId: '15dac8382f1b903f' }, { key: '15dac8382f1b903f' }],
    [{ method: 'open_url', url: 'https://example.invalid/login', instructions: 'log in' }, { text: 'https://example.invalid/login' }],
  ])('%o → ui_notice %o', (fields, expected) => {
    expect(toUiNotice(request(fields))).toEqual({ type: 'ui_notice', method: fields.method, ...expected });
  });

  it('drops widget lines that are not strings', () => {
    expect(toUiNotice(request({ method: 'setWidget', widgetKey: 'w', widgetLines: ['ok', 3, null] }))).toEqual({
      type: 'ui_notice',
      method: 'setWidget',
      key: 'w',
      lines: ['ok'],
    });
  });

  it('does not take a title as text for methods other than setTitle', () => {
    expect(toUiNotice(request({ method: 'notify', title: 'not text', message: 'm' }))).toEqual({ type: 'ui_notice', method: 'notify', message: 'm' });
  });
});

describe.skipIf(!existsSync(FIXTURES))('recorded transcripts', () => {
  /** Each UI request of a transcript, classified with the tool context at the moment it arrived. */
  function classifyTranscript(name: string) {
    const normalizer = new EventNormalizer();
    const results: unknown[] = [];
    for (const line of readFileSync(join(FIXTURES, name), 'utf8').split('\n')) {
      if (line.trim().length === 0) continue;
      const record = JSON.parse(line) as { dir: string; line?: string };
      if (record.dir !== 'out' || record.line === undefined) continue;
      const parsed = parseLine(record.line);
      if (parsed.kind !== 'frame') continue;
      const frame: KnownFrame = parsed.frame;
      if (frame.type !== 'extension_ui_request') {
        normalizer.normalize(frame);
        continue;
      }
      if (frame.method === 'setWidget') continue; // omp's own widget noise
      results.push(DIALOG_METHODS.has(frame.method) ? classifyDialog(frame, normalizer) : toUiNotice(frame));
    }
    return results;
  }

  const kinds = (results: unknown[]) =>
    results.map((result) => (result as { kind?: string; type: string; method: string }).kind ?? `${(result as { method: string }).method}`);

  it('pi-f-ext-dialogs-command: every dialog and notice of a slash command', () => {
    expect(kinds(classifyTranscript('pi-f-ext-dialogs-command.jsonl'))).toEqual([
      'choice',
      'input',
      'permission',
      'editor',
      'choice',
      'notify',
      'setStatus',
      'setTitle',
      'set_editor_text',
      'setStatus',
    ]);
  });

  it('pi-f-ext-confirm-allow: the confirm is a permission for the running bash call', () => {
    expect(classifyTranscript('pi-f-ext-confirm-allow.jsonl')).toEqual([
      expect.objectContaining({ kind: 'permission', method: 'confirm', toolCallId: 'call_bash_1', toolName: 'bash', args: { command: 'echo hi' } }),
    ]);
  });

  it('pi-f-ext-tool-input: the input is the ask_user tool’s question', () => {
    expect(classifyTranscript('pi-f-ext-tool-input.jsonl')).toEqual([
      expect.objectContaining({ kind: 'question', toolCallId: 'call_ask_1', toolName: 'ask_user', prompt: { title: 'Favourite colour?', message: 'answer' } }),
    ]);
  });

  it('omp-p-approval-approve: the built-in approval select is a permission for the announced call', () => {
    expect(classifyTranscript('omp-p-approval-approve.jsonl')).toEqual([
      expect.objectContaining({
        kind: 'permission',
        method: 'select',
        toolCallId: 'call_bash_1',
        toolName: 'bash',
        args: { command: 'echo hi' },
        prompt: { title: 'Allow tool: bash', message: 'Command: echo hi' },
      }),
    ]);
  });
});
