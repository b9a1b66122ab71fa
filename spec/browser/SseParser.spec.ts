import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseParser } from '../../src/browser/SseParser.js';

describe('SseParser', () => {
  it('parses fields, named events, ids and multi-line data; skips comments and dataless frames', () => {
    const parser = new SseParser();
    const text = ': connected\n\nid: 1\ndata: {"a":1}\n\nevent: state\ndata: line one\ndata: line two\n\nevent: empty\n\nretry: 10\ndata\n\n';
    expect(parser.push(text)).toEqual([
      { event: 'message', data: '{"a":1}', id: '1' },
      { event: 'state', data: 'line one\nline two', id: undefined },
      { event: 'message', data: '', id: undefined },
    ]);
  });

  it('handles CRLF and CR line ends and a leading BOM', () => {
    expect(new SseParser().push('\uFEFFdata: a\r\n\r\ndata: b\r\rdata:c\n\n')).toEqual([
      { event: 'message', data: 'a', id: undefined },
      { event: 'message', data: 'b', id: undefined },
      { event: 'message', data: 'c', id: undefined },
    ]);
  });

  it('gives the same messages however the stream is chunked (a CR/LF pair split across chunks included)', () => {
    const text = 'id: 7\r\ndata: {"x":"\u2028y"}\r\n\r\nevent: gap\ndata: {}\n\n: ping\n\ndata: last\r\n\r\n';
    const whole = new SseParser().push(text);
    expect(whole).toHaveLength(3);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const parser = new SseParser();
        const messages = [];
        let start = 0;
        for (const point of [...points, text.length]) {
          messages.push(...parser.push(text.slice(start, point)));
          start = point;
        }
        expect(messages).toEqual(whole);
      }),
    );
  });
});
