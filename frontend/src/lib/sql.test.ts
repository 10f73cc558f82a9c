import { describe, expect, it } from 'vitest';
import { formatArg, parseArgs, tokenize, type TokenType } from './sql';

const kinds = (sql: string) => tokenize(sql).filter((t) => t.type !== 'space').map((t) => [t.type, t.text] as [TokenType, string]);

describe('tokenize', () => {
  it.each([
    ['SELECT * FROM users', [['keyword', 'SELECT'], ['punct', '*'], ['keyword', 'FROM'], ['ident', 'users']]],
    ['select id from t', [['keyword', 'select'], ['ident', 'id'], ['keyword', 'from'], ['ident', 't']]],
    [`SELECT "id", "name" FROM "covet_demo_authors" WHERE "id" = ?`, [
      ['keyword', 'SELECT'], ['ident', '"id"'], ['punct', ','], ['ident', '"name"'], ['keyword', 'FROM'], ['ident', '"covet_demo_authors"'],
      ['keyword', 'WHERE'], ['ident', '"id"'], ['punct', '='], ['param', '?'],
    ]],
    [`WHERE name = 'O''Brien' AND n > 3.5e-2`, [
      ['keyword', 'WHERE'], ['ident', 'name'], ['punct', '='], ['string', "'O''Brien'"], ['keyword', 'AND'], ['ident', 'n'], ['punct', '>'], ['number', '3.5e-2'],
    ]],
    ['x = $1 OR y = :name OR z = @p1', [
      ['ident', 'x'], ['punct', '='], ['param', '$1'], ['keyword', 'OR'], ['ident', 'y'], ['punct', '='], ['param', ':name'],
      ['keyword', 'OR'], ['ident', 'z'], ['punct', '='], ['param', '@p1'],
    ]],
    ['SELECT 1 -- done\n/* block */ ;', [['keyword', 'SELECT'], ['number', '1'], ['comment', '-- done'], ['comment', '/* block */'], ['punct', ';']]],
    ['`weird table`.col', [['ident', '`weird table`'], ['punct', '.'], ['ident', 'col']]],
    ['count(*)::int', [['keyword', 'count'], ['punct', '(*)::'], ['keyword', 'int']]],
  ])('%j', (sql, want) => {
    expect(kinds(sql)).toEqual(want);
  });

  it.each(["SELECT 'unterminated", 'SELECT "x', '/* open', '', '   ', 'ünïcode = 1', '1..2', "a'b''c'", '$', ':', '-', '.5', 'e1'])(
    'gives %j back unchanged',
    (sql) => {
      expect(tokenize(sql).map((t) => t.text).join('')).toBe(sql);
    },
  );

  it('keeps an unterminated string one token to the end', () => {
    expect(tokenize("x = 'abc def").at(-1)).toEqual({ type: 'string', text: "'abc def" });
  });
});

describe('parseArgs', () => {
  it.each([
    ['', []],
    ['  ', []],
    ['[1, "ada", true, null, 2.5]', [1, 'ada', true, null, 2.5]],
    ['[]', []],
  ])('%j', (text, want) => {
    expect(parseArgs(text)).toEqual(want);
  });

  it.each([
    ['{', /not JSON/],
    ['{"a": 1}', /must be a JSON array/],
    ['1', /must be a JSON array/],
    ['[1, [2]]', /argument 2 is an object or array/],
    ['[{"a": 1}]', /argument 1/],
  ])('rejects %j', (text, want) => {
    expect(parseArgs(text)).toMatch(want);
  });

  it('formats arguments as JSON', () => {
    expect([1, 'a', null, true].map(formatArg)).toEqual(['1', '"a"', 'null', 'true']);
  });
});
