import { describe, expect, it } from 'vitest';
import { StderrTail } from '../../src/transport/StderrTail.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('StderrTail', () => {
  it('forwards complete lines (\\r\\n stripped) and keeps the unterminated rest in the tail', () => {
    const tail = new StderrTail();
    const lines: string[] = [];
    tail.push(bytes('first\r\nsec'), (line) => lines.push(line));
    tail.push(bytes('ond\nthird'), (line) => lines.push(line));
    expect(lines).toEqual(['first', 'second']);
    expect(tail.text).toBe('first\nsecond\nthird');
  });

  it('decodes a multi-byte character split across chunks', () => {
    const tail = new StderrTail();
    const euro = bytes('€\n');
    tail.push(euro.subarray(0, 1));
    tail.push(euro.subarray(1));
    expect(tail.text).toBe('€');
  });

  it('stays bounded in lines and characters under a flood', () => {
    const tail = new StderrTail(5, 100);
    for (let index = 0; index < 10_000; index++) tail.push(bytes(`line ${index} ${'x'.repeat(50)}\n`));
    tail.push(bytes('y'.repeat(1_000_000))); // a huge unterminated line
    expect(tail.text.length).toBeLessThanOrEqual(100);
    expect(tail.text.endsWith('y')).toBe(true);
    const lines = new StderrTail(3, 1_000);
    for (let index = 0; index < 10; index++) lines.push(bytes(`l${index}\n`));
    expect(lines.text).toBe('l7\nl8\nl9');
  });

  describe('masks secrets', () => {
    const SECRET = 'sk-secret-0123456789abcdef';
    /** Any 6 characters of the secret in a row (a long enough piece to matter). */
    const leaks = (text: string) => [...Array(SECRET.length - 5).keys()].some((at) => text.includes(SECRET.slice(at, at + 6)));

    it('in lines and the tail, however the text is cut into chunks', () => {
      const text = `KEY=${SECRET} and again ${SECRET}\nnext ${SECRET}`;
      for (let cut = 0; cut <= text.length; cut++) {
        const tail = new StderrTail();
        tail.redacting([SECRET]);
        const lines: string[] = [];
        tail.push(bytes(text.slice(0, cut)), (line) => lines.push(line));
        expect(leaks(tail.text), `cut at ${cut}`).toBe(false);
        tail.push(bytes(text.slice(cut)), (line) => lines.push(line));
        expect(lines).toEqual(['KEY=*** and again ***']);
        expect(tail.text).toBe('KEY=*** and again ***\nnext ***');
      }
    });

    it('before a long line or an endless one is cut to size', () => {
      for (let offset = 0; offset < SECRET.length + 2; offset++) {
        const tail = new StderrTail(5, 100);
        tail.redacting([SECRET]);
        const lines: string[] = [];
        tail.push(bytes(`${'a'.repeat(100 - offset)}${SECRET}${'b'.repeat(50)}\n`), (line) => lines.push(line));
        expect(leaks(lines.join('\n')) || leaks(tail.text), `offset ${offset}`).toBe(false);
        // No newline at all: the unterminated line is cut to the bound as it grows.
        for (let index = 0; index < 20; index++) {
          tail.push(bytes(`${'c'.repeat(offset + 7)}${SECRET.slice(0, 9)}`));
          tail.push(bytes(SECRET.slice(9)));
        }
        expect(leaks(tail.text), `offset ${offset}`).toBe(false);
        expect(tail.text.length).toBeLessThanOrEqual(100);
      }
    });

    it('leaves everything else alone', () => {
      const tail = new StderrTail();
      tail.redacting([SECRET]);
      const lines: string[] = [];
      tail.push(bytes('sk-secret is not the key\nPATH=/bin\n'), (line) => lines.push(line));
      expect(lines).toEqual(['sk-secret is not the key', 'PATH=/bin']);
      expect(tail.redact(`x ${SECRET} y`)).toBe('x *** y');
    });
  });
});
