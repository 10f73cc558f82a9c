// "Try it" on the Routes page: a route path's parameters, sample values
// that satisfy their patterns, and the URL (path and query) to send.
//
//	const segs = parseRoutePath('/users/{id:[0-9]{3}}/files/{rest...}');
//	const values = { id: sampleValue(segs[1]), rest: 'a b/c' }; // id: "123"
//	tryURL(segs, values, [{ name: 'q', value: 'x&y' }]);
//	// "/users/123/files/a%20b/c?q=x%26y"

/** One piece of a route path: static text, a parameter ({name} or
 * {name:pattern}) or the final catch-all ({name...}). */
export type PathSegment =
  | { kind: 'static'; text: string }
  | { kind: 'param'; name: string; pattern?: string }
  | { kind: 'catchAll'; name: string };

/** A parameter of a route path. */
export type PathParam = Exclude<PathSegment, { kind: 'static' }>;

/** One name=value row of the query string. */
export interface QueryRow {
  name: string;
  value: string;
}

/** Splits a route path into its segments, with the server's grammar
 * (backend/router parsePath): the path is cut at every '/', and a segment
 * that starts with '{' is a parameter that runs to the '}' ending the
 * segment, so braces inside a pattern ({id:[0-9]{3}}) belong to the
 * pattern. Throws an Error naming what is wrong with a path the server
 * would refuse. */
export function parseRoutePath(path: string): PathSegment[] {
  if (!path.startsWith('/')) throw new Error(`${JSON.stringify(path)} must start with '/'`);
  const parts = path.slice(1).split('/');
  const names = new Set<string>();
  return parts.map((p, i): PathSegment => {
    if (!p.startsWith('{')) {
      if (/[{}]/.test(p)) throw new Error(`segment ${JSON.stringify(p)} mixes text and a parameter; a parameter must be a whole segment`);
      if (p === '' && i !== parts.length - 1) throw new Error(`${JSON.stringify(path)} has an empty segment`);
      return { kind: 'static', text: p };
    }
    if (!p.endsWith('}') || p.length < 2) throw new Error(`parameter ${JSON.stringify(p)} is not closed with '}'`);
    const inner = p.slice(1, -1);
    const colon = inner.indexOf(':');
    const name = colon < 0 ? inner : inner.slice(0, colon);
    const pattern = colon < 0 ? undefined : inner.slice(colon + 1);
    let seg: PathSegment = { kind: 'param', name };
    if (pattern === undefined && name.endsWith('...')) {
      if (i !== parts.length - 1) throw new Error(`catch-all {${inner}} must be the last segment`);
      seg = { kind: 'catchAll', name: name.slice(0, -3) };
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg.name)) throw new Error(`parameter name ${JSON.stringify(seg.name)} must be a Go-style identifier`);
    if (names.has(seg.name)) throw new Error(`parameter {${seg.name}} declared twice`);
    names.add(seg.name);
    if (pattern !== undefined) {
      if (pattern === '') throw new Error(`parameter {${name}} has an empty pattern`);
      seg = { kind: 'param', name, pattern };
    }
    return seg;
  });
}

/** The parameters of a parsed path, in path order. */
export function pathParams(segs: PathSegment[]): PathParam[] {
  return segs.filter((s): s is PathParam => s.kind !== 'static');
}

/** A test for a parameter's pattern as the server applies it (anchored,
 * to the decoded segment), or null when the browser cannot tell: the
 * pattern is compiled in JavaScript's strict (u) mode, which refuses what
 * it does not know (\pL, [[:alpha:]]) rather than reading it differently
 * from Go's RE2. */
export function patternTest(pattern: string): ((value: string) => boolean) | null {
  try {
    const re = new RegExp('^(?:' + toJSRegExp(pattern) + ')$', 'u');
    return (v) => re.test(v);
  } catch {
    return null;
  }
}

/** RE2 syntax that strict JavaScript spells otherwise: (?P<name>…) is
 * (?<name>…), and punctuation RE2 lets one escape (\#, \-) is written
 * as \u{HH}. */
function toJSRegExp(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) {
      const e = String.fromCodePoint(pattern.codePointAt(++i) as number);
      i += e.length - 1;
      out += /[A-Za-z0-9^$\\.*+?()[\]{}|/]/.test(e) ? '\\' + e : `\\u{${(e.codePointAt(0) as number).toString(16)}}`;
    } else if (pattern.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else out += c;
  }
  return out;
}

/** A value to try a parameter with: "1" for a plain parameter, "example"
 * for a catch-all, and for a patterned one a short string the pattern
 * accepts ("123" for \d{3}, "abc" for [a-z]{3}, "json" for (json|xml)),
 * checked against the pattern; "" when none could be made, never a value
 * the route would refuse. */
export function sampleValue(p: PathParam): string {
  if (p.kind === 'catchAll') return 'example';
  if (p.pattern === undefined) return '1';
  let out: string | null = null;
  try {
    const node = new RegexParser(p.pattern).parse();
    out = generate(node, 0);
  } catch {
    return '';
  }
  // A value must fill a segment: not empty, no '/'.
  if (!out || out.includes('/')) return '';
  const test = patternTest(p.pattern);
  return test && test(out) ? out : '';
}

/** What is wrong with value for parameter p, or '' when nothing is: a
 * plain or patterned parameter needs a value (missing), one without '/'
 * (slash: the server decodes %2F before it matches, so the value would
 * span two segments), and a patterned one a value its pattern accepts
 * (mismatch). The last two are worth trying anyway: the route answers
 * 404 or another route matches. */
export function paramProblem(p: PathParam, value: string): '' | 'missing' | 'slash' | 'mismatch' {
  if (p.kind === 'catchAll') return '';
  if (value === '') return 'missing';
  if (value.includes('/')) return 'slash';
  if (p.pattern !== undefined) {
    const test = patternTest(p.pattern);
    if (test && !test(value)) return 'mismatch';
  }
  return '';
}

/** Percent-encodes one path segment: everything but RFC 3986's pchar
 * (unreserved, sub-delims, ':' and '@') is escaped, '/' included. */
export function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/%(24|26|2B|2C|3B|3D|3A|40)/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Percent-encodes a query name or value: '&', '=', '+', '#' and the
 * like are escaped, a space is %20. */
export function encodeQueryPart(s: string): string {
  return encodeURIComponent(s);
}

/** The query string for rows, with its '?' ("" when no row has a name);
 * a row with a name and no value is sent as "name=". */
export function queryString(rows: QueryRow[]): string {
  const parts = rows.filter((r) => r.name !== '').map((r) => `${encodeQueryPart(r.name)}=${encodeQueryPart(r.value)}`);
  return parts.length ? '?' + parts.join('&') : '';
}

/** The path and query to send: each parameter's value percent-encoded into
 * its segment (a catch-all keeps its slashes), then the query rows. */
export function tryURL(segs: PathSegment[], values: Record<string, string>, rows: QueryRow[]): string {
  const path = segs
    .map((s) => {
      switch (s.kind) {
        case 'static':
          return encodeSegment(s.text);
        case 'catchAll':
          return (values[s.name] ?? '').split('/').map(encodeSegment).join('/');
        default:
          return encodeSegment(values[s.name] ?? '');
      }
    })
    .join('/');
  return '/' + path + queryString(rows);
}

// A sample string for a regular expression: a parser for the part of RE2's
// syntax that route patterns use (literals, ., classes, \d \w \s, groups,
// alternation, quantifiers) that throws on anything else, and a generator
// that takes the first alternative and the fewest repetitions (at least
// one), picking readable characters.

type Node =
  | { t: 'lit'; ch: string }
  | { t: 'set'; has: (c: string) => boolean }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number };

/** Characters a sample is made of, most readable first. */
const PREFERRED = 'abcdefghijklmnopqrstuvwxyz1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.~!$&\'()*+,;=:@ ';
const MAX_REPEAT = 64;

const DIGIT = (c: string) => c >= '0' && c <= '9';
const WORD = (c: string) => /^[A-Za-z0-9_]$/.test(c);
const SPACE = (c: string) => /^[\t\n\f\r ]$/.test(c);

class RegexParser {
  private i = 0;
  constructor(private readonly src: string) {}

  parse(): Node {
    const n = this.alt();
    if (this.i < this.src.length) throw new Error(`unexpected ${this.src[this.i]}`);
    return n;
  }

  private alt(): Node {
    const alts = [this.seq()];
    while (this.src[this.i] === '|') {
      this.i++;
      alts.push(this.seq());
    }
    return alts.length === 1 ? alts[0] : { t: 'alt', alts };
  }

  private seq(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const atom = this.atom();
      if (atom) items.push(this.quantified(atom));
    }
    return { t: 'seq', items };
  }

  /** An atom, or null for an anchor (^, $), which adds nothing. */
  private atom(): Node | null {
    const c = this.src[this.i++];
    switch (c) {
      case '^':
      case '$':
        return null;
      case '.':
        return { t: 'set', has: (x) => x !== '\n' };
      case '[':
        return this.cls();
      case '\\':
        return this.escape(false);
      case '(': {
        if (this.src[this.i] === '?') {
          const m = /^\?(?::|P?<[A-Za-z_][A-Za-z0-9_]*>)/.exec(this.src.slice(this.i));
          if (!m) throw new Error('unsupported group');
          this.i += m[0].length;
        }
        const inner = this.alt();
        if (this.src[this.i++] !== ')') throw new Error('unclosed group');
        return inner;
      }
      case '*':
      case '+':
      case '?':
      case ')':
        throw new Error(`unexpected ${c}`);
      default:
        return { t: 'lit', ch: c };
    }
  }

  private quantified(node: Node): Node {
    let out = node;
    for (;;) {
      const c = this.src[this.i];
      let min: number, max: number;
      if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
        if (!m) return out; // RE2 reads a '{' that starts no repeat as a literal
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (max < min) throw new Error('bad repeat');
        this.i += m[0].length - 1;
      } else return out;
      this.i++;
      if (this.src[this.i] === '?') this.i++; // lazy: same strings
      out = { t: 'rep', node: out, min, max };
    }
  }

  /** An escape after '\'; in a class, only what stands for characters. */
  private escape(inClass: boolean): Node {
    const c = this.src[this.i++];
    if (c === undefined) throw new Error('trailing \\');
    const sets: Record<string, (x: string) => boolean> = {
      d: DIGIT,
      D: (x) => !DIGIT(x),
      w: WORD,
      W: (x) => !WORD(x),
      s: SPACE,
      S: (x) => !SPACE(x),
    };
    if (sets[c]) return { t: 'set', has: sets[c] };
    const controls: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };
    if (controls[c]) return { t: 'lit', ch: controls[c] };
    if (/[A-Za-z0-9]/.test(c)) throw new Error(`unsupported escape \\${c}${inClass ? ' in a class' : ''}`);
    return { t: 'lit', ch: c }; // escaped punctuation stands for itself
  }

  private cls(): Node {
    const negate = this.src[this.i] === '^';
    if (negate) this.i++;
    const tests: ((x: string) => boolean)[] = [];
    let first = true;
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) throw new Error('unclosed class');
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      if (c === '[' && this.src[this.i + 1] === ':') throw new Error('unsupported class [:name:]');
      const lo = this.classChar();
      first = false;
      if (typeof lo !== 'string') {
        tests.push(lo);
        continue;
      }
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']' && this.src[this.i + 1] !== undefined) {
        this.i++;
        const hi = this.classChar();
        if (typeof hi !== 'string' || hi < lo) throw new Error('bad range');
        tests.push((x) => x >= lo && x <= hi);
      } else tests.push((x) => x === lo);
    }
    return { t: 'set', has: (x) => tests.some((t) => t(x)) !== negate };
  }

  /** One character of a class, or a set (\d) within it. */
  private classChar(): string | ((x: string) => boolean) {
    const c = this.src[this.i++];
    if (c !== '\\') return c;
    const e = this.escape(true);
    return e.t === 'lit' ? e.ch : (e as { has: (x: string) => boolean }).has;
  }
}

/** The shortest readable string node matches (k varies the characters of
 * repeats: [0-9a-f]{4} gives "abcd"); throws when node matches nothing. */
function generate(node: Node, k: number): string {
  switch (node.t) {
    case 'lit':
      return node.ch;
    case 'set': {
      const chars = [...PREFERRED].filter(node.has);
      if (!chars.length) throw new Error('no character fits');
      return chars[k % chars.length];
    }
    case 'seq':
      return node.items.map((n) => generate(n, k)).join('');
    case 'alt': {
      // The first alternative that gives something, else an empty one.
      let empty: string | null = null;
      for (const a of node.alts) {
        try {
          const s = generate(a, k);
          if (s) return s;
          empty ??= s;
        } catch {
          // try the next alternative
        }
      }
      if (empty === null) throw new Error('no alternative fits');
      return empty;
    }
    case 'rep': {
      const n = node.max === 0 ? 0 : Math.max(node.min, 1);
      if (n > MAX_REPEAT) throw new Error('too many repeats');
      let s = '';
      for (let j = 0; j < n; j++) s += generate(node.node, k + j);
      return s;
    }
  }
}
