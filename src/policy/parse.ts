/**
 * The SQL parser (node-sql-parser, DESIGN §4) behind one function, with the
 * depth bound that keeps a deep tree from costing the stack. Pure.
 */
import sqlParser from 'node-sql-parser';
import type { Kind } from './kinds.ts';
import type { LexedStatement } from './lexer.ts';
import { isNode, type Node } from './nodes.ts';

const parser = new sqlParser.Parser();


/**
 * How deep the tree of one statement may nest (expressions, subqueries) before
 * Airlock stops: past it the statement is refused as SQL_TOO_COMPLEX instead of
 * risking the stack. Long flat lists (`IN (…)`, UNION branches) do not count.
 */
export const MAX_TREE_DEPTH = 1000;

/** Thrown inside the walk when the tree is deeper than {@link MAX_TREE_DEPTH}. */
export class TreeTooDeep extends Error {
  constructor() {
    super('the statement nests deeper than Airlock analyses');
    this.name = 'TreeTooDeep';
  }
}

/** A stack overflow (from the parser or a walk): the statement is too complex, never a crash. */
export const isStackOverflow = (e: unknown): boolean => e instanceof TreeTooDeep || (e instanceof RangeError && /call stack/i.test(e.message));

/**
 * Text for the parser: the statement's tokens with their original spelling,
 * comments replaced by a space, and `$$…$$` bodies turned into ordinary
 * single-quoted strings (node-sql-parser reads `$$x$$` as a variable).
 */
export function parserText(statement: LexedStatement, source: string): string {
  let out = '';
  let prevEnd = -1;
  for (const t of statement.tokens) {
    if (prevEnd >= 0 && t.start > prevEnd) out += ' ';
    const raw = source.slice(t.start, t.end);
    if (t.kind === 'string' && raw.startsWith('$$')) {
      out += `'${raw.slice(2, -2).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
    } else out += raw;
    prevEnd = t.end;
  }
  return out;
}

/** The one statement `text` parses to, or why it could not be read; a DELETE may also be read as PostgreSQL. */
export function parse(text: string, kind: Kind): Node | string {
  const grammars = kind === 'delete' ? ['snowflake', 'postgresql'] : ['snowflake'];
  let lastError = '';
  for (const database of grammars) {
    try {
      const ast = parser.astify(text, { database }) as unknown;
      const list = Array.isArray(ast) ? ast : [ast];
      if (list.length !== 1 || !isNode(list[0])) return 'the parser saw more than one statement';
      return list[0];
    } catch (e) {
      if (isStackOverflow(e)) throw new TreeTooDeep();
      lastError = e instanceof Error ? e.message.split('\n')[0]!.slice(0, 120) : 'parse error';
    }
  }
  return `the SQL parser could not read it (${lastError})`;
}
