// A small SQL tokenizer for highlighting statements in the studio, and the
// parsing of the SQL console's arguments. It does not validate SQL: every
// input, however broken, comes back as tokens whose texts add up to it.

export type TokenType = 'keyword' | 'string' | 'number' | 'ident' | 'param' | 'comment' | 'punct' | 'space';

export interface Token {
  type: TokenType;
  text: string;
}

/** Words shown as keywords (compared in upper case). */
export const KEYWORDS = new Set(
  (
    'ADD ALL ALTER ANALYZE AND ANY AS ASC AUTOINCREMENT BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT ' +
    'CONFLICT CONSTRAINT CREATE CROSS CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DEFAULT DELETE DESC DISTINCT DO DROP ' +
    'ELSE END EXCEPT EXISTS EXPLAIN FALSE FETCH FOR FOREIGN FROM FULL GROUP HAVING IF ILIKE IN INDEX INNER INSERT ' +
    'INTERSECT INTO IS JOIN KEY LEFT LIKE LIMIT NOT NOTHING NULL NULLS OFFSET ON OR ORDER OUTER OVER PARTITION PLAN ' +
    'PRAGMA PRIMARY QUERY RECURSIVE REFERENCES RELEASE RETURNING RIGHT ROLLBACK ROW ROWS SAVEPOINT SELECT SET SHOW ' +
    'TABLE THEN TO TRANSACTION TRUE UNION UNIQUE UPDATE USING VALUES VIEW WHEN WHERE WINDOW WITH ' +
    'INT INTEGER TEXT REAL BLOB VARCHAR BIGINT BOOLEAN TIMESTAMP TIMESTAMPTZ DOUBLE PRECISION SERIAL BIGSERIAL NUMERIC ' +
    'COUNT SUM AVG MIN MAX COALESCE'
  ).split(' '),
);

const isDigit = (c: string) => c >= '0' && c <= '9';
const isWordStart = (c: string) => /[A-Za-z_\u0080-\uffff]/.test(c);
const isWord = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

/** Index just past a quoted run that starts at i with quote q; a doubled
 * quote inside is an escaped one. An unterminated run ends the input. */
function quoted(sql: string, i: number, q: string): number {
  let j = i + 1;
  while (j < sql.length) {
    if (sql[j] === q) {
      if (sql[j + 1] === q) j += 2;
      else return j + 1;
    } else j++;
  }
  return sql.length;
}

/** Splits sql into tokens; joining their texts gives sql back. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  const push = (type: TokenType, text: string) => {
    const last = out.at(-1);
    // Runs of punctuation or space are one token: fewer DOM nodes.
    if (last && last.type === type && (type === 'punct' || type === 'space')) last.text += text;
    else out.push({ type, text });
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1] ?? '';
    let j: number;
    if (/\s/.test(c)) {
      j = i + 1;
      while (j < sql.length && /\s/.test(sql[j])) j++;
      push('space', sql.slice(i, j));
    } else if (c === '-' && next === '-') {
      j = sql.indexOf('\n', i);
      j = j < 0 ? sql.length : j;
      push('comment', sql.slice(i, j));
    } else if (c === '/' && next === '*') {
      j = sql.indexOf('*/', i + 2);
      j = j < 0 ? sql.length : j + 2;
      push('comment', sql.slice(i, j));
    } else if (c === "'") {
      j = quoted(sql, i, "'");
      push('string', sql.slice(i, j));
    } else if (c === '"' || c === '`') {
      j = quoted(sql, i, c);
      push('ident', sql.slice(i, j));
    } else if (isDigit(c) || (c === '.' && isDigit(next))) {
      j = i + 1;
      while (j < sql.length && (isDigit(sql[j]) || sql[j] === '.')) j++;
      if ((sql[j] === 'e' || sql[j] === 'E') && (isDigit(sql[j + 1] ?? '') || (/[+-]/.test(sql[j + 1] ?? '') && isDigit(sql[j + 2] ?? '')))) {
        j += 2;
        while (j < sql.length && isDigit(sql[j])) j++;
      }
      push('number', sql.slice(i, j));
    } else if (c === '?' || (c === '$' && isDigit(next)) || ((c === ':' || c === '@') && isWordStart(next) && sql[i - 1] !== ':')) {
      j = i + 1;
      while (j < sql.length && isWord(sql[j])) j++;
      push('param', sql.slice(i, j));
    } else if (isWordStart(c)) {
      j = i + 1;
      while (j < sql.length && isWord(sql[j])) j++;
      const word = sql.slice(i, j);
      push(KEYWORDS.has(word.toUpperCase()) ? 'keyword' : 'ident', word);
    } else {
      j = i + 1;
      push('punct', c);
    }
    i = j;
  }
  return out;
}

/** Parses the console's arguments: a JSON array of strings, numbers,
 * booleans and nulls; blank means none. Returns a message when it is not. */
export function parseArgs(text: string): unknown[] | string {
  if (text.trim() === '') return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `arguments are not JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (!Array.isArray(v)) return 'arguments must be a JSON array, such as [1, "ada"]';
  const bad = v.findIndex((x) => x !== null && typeof x === 'object');
  if (bad >= 0) return `argument ${bad + 1} is an object or array; use strings, numbers, booleans or null`;
  return v;
}

/** One argument as the detail pane shows it. */
export function formatArg(v: unknown): string {
  return v === undefined ? 'undefined' : JSON.stringify(v);
}
