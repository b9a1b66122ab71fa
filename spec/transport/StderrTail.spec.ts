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
});
