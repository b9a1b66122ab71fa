/**
 * The small part of Markdown that link checking needs, as pure functions on text: the links of a
 * page (inline and reference definitions, outside code) and the anchors its headings get on
 * GitHub. No Markdown library: the pages are ours, and these rules cover what they use.
 */

/** One link as written in a page. */
export interface MarkdownLink {
  /** 1-based line of the link in its page. */
  readonly line: number;
  /** The destination as written, angle brackets and title removed. */
  readonly target: string;
}

/** A destination with a scheme (`https:`, `mailto:`) or protocol-relative (`//host`): not a file of ours. */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}

/** Splits `path#anchor` (the anchor decoded, `''` when absent). */
export function splitTarget(target: string): { readonly path: string; readonly anchor: string } {
  const hash = target.indexOf('#');
  const path = hash === -1 ? target : target.slice(0, hash);
  const anchor = hash === -1 ? '' : target.slice(hash + 1);
  return { path: safeDecode(path.split('?')[0] ?? ''), anchor: safeDecode(anchor) };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Opening or closing fence of a fenced code block (``` or ~~~, indented up to a list item's depth). */
const FENCE = /^\s*(`{3,}|~{3,})/;

/** For each line of a page: is it part of a fenced code block (its fences included)? */
export function fencedLines(markdown: string): boolean[] {
  let fence: string | undefined;
  return markdown.split(/\r?\n/).map((line) => {
    const marker = FENCE.exec(line)?.[1];
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return true;
    }
    if (marker !== undefined) fence = marker;
    return marker !== undefined;
  });
}

/**
 * The page's lines with fenced code blocks blanked and inline code spans replaced by spaces,
 * so neither can yield a link; line numbers and columns are kept.
 */
export function proseLines(markdown: string): string[] {
  const fenced = fencedLines(markdown);
  const blankCode = (line: string): string =>
    line.replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, (span) => ' '.repeat(span.length));
  return markdown.split(/\r?\n/).map((line, index) => (fenced[index] ? '' : blankCode(line)));
}

/** `[text](destination "title")` and `![alt](destination)`; text may hold one level of brackets. */
const INLINE_LINK = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^\s()]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
/** `[label]: destination` */
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;

/** Every link of a page outside code, in order. */
export function extractLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  proseLines(markdown).forEach((text, index) => {
    const line = index + 1;
    const definition = REFERENCE_DEFINITION.exec(text);
    if (definition?.[1] !== undefined) {
      links.push({ line, target: unwrap(definition[1]) });
      return;
    }
    for (const match of text.matchAll(INLINE_LINK)) {
      if (match[1] !== undefined) links.push({ line, target: unwrap(match[1]) });
    }
  });
  return links;
}

const unwrap = (destination: string): string =>
  destination.startsWith('<') && destination.endsWith('>') ? destination.slice(1, -1) : destination;

/**
 * The anchor GitHub gives a heading (github-slugger): lower case, every character that is not a
 * letter, mark, digit, connector (`_`), space or hyphen dropped, each space a hyphen.
 */
export function githubSlug(headingText: string): string {
  return headingText
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** A heading's text as GitHub renders it: links reduced to their text, code and emphasis marks and HTML tags gone. */
function renderedText(heading: string): string {
  return heading
    .replace(/!?\[((?:[^[\]]|\[[^\]]*\])*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[`*]/g, '')
    .trim();
}

/**
 * Every anchor a page offers: its headings' slugs (ATX and setext; a repeated slug gets `-1`,
 * `-2`, … as on GitHub) and explicit `<a id>` / `<a name>` anchors.
 */
export function anchorsOf(markdown: string): Set<string> {
  const lines = markdown.split(/\r?\n/);
  const fenced = fencedLines(markdown);
  const prose = proseLines(markdown);
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const addHeading = (text: string): void => {
    const base = githubSlug(renderedText(text));
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  };
  lines.forEach((line, index) => {
    if (fenced[index]) return;
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (atx) {
      addHeading(atx[1] ?? '');
    } else if (index > 0 && /^ {0,3}(=+|-+)[ \t]*$/.test(line) && !fenced[index - 1]) {
      const previous = lines[index - 1] ?? '';
      const isParagraph = previous.trim() !== '' && !/^\s*([-*+]\s|\d+[.)]\s|>|#|\|)/.test(previous);
      if (isParagraph) addHeading(previous);
    }
    for (const match of (prose[index] ?? '').matchAll(/<a\s[^>]*?\b(?:id|name)\s*=\s*["']([^"']+)["']/gi)) {
      if (match[1] !== undefined) anchors.add(match[1]);
    }
  });
  return anchors;
}
