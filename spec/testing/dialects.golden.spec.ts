/**
 * Same scenario, three dialects, same events: the goldens of twin recordings (pi 0.73 and omp
 * 18.2 from `spec/fixtures/transcripts/`, pi 1.5 and pi 0.73-with-pidriver's-approvals
 * from `spec/fixtures/transcripts/`) must give the same normalized event sequence
 * (`spec/dialects/eventView.ts` says what is compared and which differences are deliberate).
 *
 * The golden files themselves are checked by `transcripts.spec.ts`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventView as view } from '../dialects/eventView.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden');

type GoldenEvent = Record<string, unknown> & { type: string };

function golden(name: string): GoldenEvent[] | undefined {
  const path = join(GOLDEN, `${name}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { events: GoldenEvent[] }).events : undefined;
}

const DIALECTS = { 'pi 0.73': 'pi', omp: 'omp', 'pi 1.x': 'pi1' } as const;
const SCENARIOS = ['b-text', 'b-thinking', 'c-tool-bash', 'd-abort', 'e-stats-messages', 'g-http401', 'p-approval-approve', 'p-approval-deny'];

describe('one scenario, three dialects, the same events', () => {
  for (const scenario of SCENARIOS) {
    const views = Object.entries(DIALECTS).flatMap(([dialect, prefix]) => {
      const events = golden(`${prefix}-${scenario}`);
      return events ? [[dialect, view(events)] as const] : [];
    });
    it.skipIf(views.length < 2)(`${scenario}: ${views.map(([dialect]) => dialect).join(', ')}`, () => {
      const [[, first] = ['', []], ...rest] = views;
      expect(first.length).toBeGreaterThan(0);
      for (const [dialect, other] of rest) expect(other, `${dialect} differs from ${views[0]?.[0]}`).toEqual(first);
    });
  }

  it('the deltas of every assistant message concatenate to its final text, in every golden', () => {
    let checked = 0;
    for (const prefix of Object.values(DIALECTS)) {
      for (const scenario of SCENARIOS) {
        const events = golden(`${prefix}-${scenario}`);
        if (!events) continue;
        let text = '';
        for (const event of events) {
          if (event.type === 'message_delta' && event['channel'] === 'assistant') text += String(event['text']);
          if (event.type === 'message_complete' && event['channel'] === 'assistant') {
            expect(text, `${prefix}-${scenario}`).toBe(event['text']);
            text = '';
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});
