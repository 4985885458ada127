/**
 * Token-level classification: every statement's verb, object type, categories
 * and risk flags, whether or not the SQL parser understands it. Pure.
 *
 * This is what keeps an unparsed `DROP DATABASE` from looking like a "medium"
 * risk: the verb is always known from the tokens, and the AST only adds facts.
 * The vocabulary (kinds, categories, object types) is in kinds.ts; here, one
 * step per verb family fills in a {@link Classification}.
 */
import { ADMIN_ROLES, generalObjects, matchObject, MODIFIERS, OBJECT_CATEGORY, WRITE_WORDS, type Category, type Classification, type Kind } from './kinds.ts';
import { identifierName, type Token } from './lexer.ts';

const word = (t: Token | undefined): string | undefined => (t?.kind === 'word' ? t.text : undefined);

/** Read a dotted name (`a.b."C d"`) starting at `i`; returns parts and the next index. */
export function readName(tokens: readonly Token[], i: number): { parts: string[]; next: number } | undefined {
  const parts: string[] = [];
  let j = i;
  for (;;) {
    const t = tokens[j];
    if (!t || (t.kind !== 'word' && t.kind !== 'quoted')) break;
    parts.push(identifierName(t));
    j++;
    if (tokens[j]?.text === '.') j++;
    else break;
  }
  return parts.length > 0 ? { parts, next: j } : undefined;
}

/** Index of the first token after a WITH clause's CTE list, at paren depth 0. */
function afterCtes(tokens: readonly Token[]): number {
  let depth = 0;
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && t.kind === 'word' && i > 1) {
      // `name AS (…)` pairs separated by commas; the first depth-0 word after a
      // closing paren that is not a comma-separated CTE name is the main verb.
      const prev = tokens[i - 1]!;
      if (prev.text === ')') return i;
    }
  }
  return tokens.length;
}

/** One statement being classified: its tokens, its words, where its main verb is, and the result so far. */
interface Step {
  tokens: readonly Token[];
  words: string[];
  mainAt: number;
  c: Classification;
}

const add = (c: Classification, ...cats: Category[]): void => {
  for (const x of cats) if (!c.categories.includes(x)) c.categories.push(x);
};
const flag = (c: Classification, f: string): void => {
  if (!c.flags.includes(f)) c.flags.push(f);
};
const setKind = (c: Classification, kind: Kind, ...cats: Category[]): void => {
  c.kind = kind;
  add(c, ...cats);
};

/** Classify one statement from its tokens. */
export function classify(tokens: readonly Token[]): Classification {
  const verb = word(tokens[0]) ?? null;
  const c: Classification = {
    kind: 'unknown',
    verb,
    object: null,
    tags: [],
    categories: [],
    flags: [],
    targets: [],
    sources: [],
    lexicallyComplete: false,
  };
  const words = tokens.filter((t) => t.kind === 'word').map((t) => t.text);
  if (words.some((w) => ADMIN_ROLES.has(w)) || tokens.some((t) => t.kind === 'quoted' && ADMIN_ROLES.has(identifierName(t)))) {
    flag(c, 'admin_role');
  }
  const { main, mainAt } = mainVerb(tokens, verb, c);
  byVerb({ tokens, words, mainAt, c }, main);
  if (c.kind === 'unknown' && !c.categories.includes('unknown')) add(c, 'unknown');
  // A read whose tokens carry a write verb (outside strings and quoted names) is never a plain read.
  if (c.kind === 'select' || c.kind === 'explain') {
    const hidden = tokens.find((t, k) => t.kind === 'word' && WRITE_WORDS.has(t.text) && tokens[k + 1]?.text !== '(' && tokens[k - 1]?.text !== '.');
    if (hidden) flag(c, 'hidden_write');
  }
  c.tags = [c.kind];
  if (c.object) for (const o of generalObjects(c.object)) c.tags.push(`${c.kind}_${o}`);
  if (c.kind === 'copy' && c.object === 'location') c.tags.push('unload');
  if (c.kind === 'copy' && c.object === 'table') c.tags.push('load');
  return c;
}

/** The verb that decides the kind: after a WITH's CTEs, or SELECT for a parenthesised query. */
function mainVerb(tokens: readonly Token[], verb: string | null, c: Classification): { main: string | null; mainAt: number } {
  if (verb === 'WITH') {
    const mainAt = afterCtes(tokens);
    const main = word(tokens[mainAt]) ?? null;
    if (main && main !== 'SELECT') flag(c, 'write_after_cte');
    return { main, mainAt };
  }
  if (tokens[0]?.text === '(') {
    // A parenthesised query: `(select …) union (select …)`.
    const firstWord = tokens.find((t) => t.kind === 'word');
    return { main: firstWord?.text === 'SELECT' ? 'SELECT' : null, mainAt: 0 };
  }
  return { main: verb, mainAt: 0 };
}

/** One verb family per case: the kind, its categories, and what the tokens after the verb add. */
function byVerb(s: Step, main: string | null): void {
  const { c, tokens } = s;
  switch (main) {
    case 'SELECT':
    case 'VALUES':
      return setKind(c, 'select', 'read');
    case 'INSERT':
      setKind(c, 'insert', 'write');
      if (word(tokens[s.mainAt + 1]) === 'OVERWRITE') {
        flag(c, 'overwrite');
        add(c, 'destructive');
      }
      return;
    case 'UPDATE':
      return setKind(c, 'update', 'write');
    case 'DELETE':
      return setKind(c, 'delete', 'write');
    case 'MERGE':
      return setKind(c, 'merge', 'write');
    case 'TRUNCATE':
      return truncate(s);
    case 'COPY':
      return copy(s);
    case 'PUT':
    case 'GET':
      return setKind(c, main === 'PUT' ? 'put' : 'get', 'exfiltration');
    case 'LIST':
    case 'LS':
      return setKind(c, 'list', 'stage');
    case 'REMOVE':
    case 'RM':
      return setKind(c, 'remove', 'stage', 'destructive');
    case 'CREATE':
    case 'ALTER':
    case 'DROP':
    case 'UNDROP':
      return ddl(s, main);
    case 'GRANT':
    case 'REVOKE':
      return grant(s, main);
    case 'USE':
      return use(s);
    case 'SHOW':
      setKind(c, 'show', 'read');
      c.lexicallyComplete = isSimple(tokens);
      return;
    case 'DESC':
    case 'DESCRIBE':
      return describe(s);
    case 'EXPLAIN':
      return setKind(c, 'explain', 'read');
    case 'CALL':
      return setKind(c, 'call', 'code');
    case 'EXECUTE':
    case 'EXEC':
      return execute(s);
    case 'SET':
    case 'UNSET':
      return setKind(c, main === 'SET' ? 'set' : 'unset', 'session');
    case 'BEGIN':
    case 'START':
      return begin(s, main);
    case 'COMMIT':
    case 'ROLLBACK':
      setKind(c, main === 'COMMIT' ? 'commit' : 'rollback', 'transaction');
      c.lexicallyComplete = tokens.slice(1).every((t) => t.text === 'WORK');
      return;
    case 'COMMENT':
      return setKind(c, 'comment', 'ddl');
    default:
      add(c, 'unknown');
  }
}

function truncate({ c, tokens, mainAt }: Step): void {
  setKind(c, 'truncate', 'write', 'destructive');
  let i = mainAt + 1;
  while (['TABLE', 'IF', 'EXISTS'].includes(word(tokens[i]) ?? '')) i++;
  const name = readName(tokens, i);
  if (name) c.targets.push(name.parts);
  c.lexicallyComplete = isSimple(tokens) && name !== undefined && name.next === tokens.length;
}

/** COPY INTO @stage / 'location' unloads data; COPY INTO table loads it; COPY FILES moves stage files. */
function copy({ c, tokens, mainAt }: Step): void {
  c.kind = 'copy';
  const intoAt = tokens.findIndex((t, k) => k > mainAt && t.kind === 'word' && t.text === 'INTO');
  const after = intoAt >= 0 ? tokens[intoAt + 1] : undefined;
  const into = intoAt >= 0 ? readName(tokens, intoAt + 1) : undefined;
  const fromAt = tokens.findIndex((t, k) => k > intoAt && t.kind === 'word' && t.text === 'FROM');
  const from = fromAt >= 0 ? readName(tokens, fromAt + 1) : undefined;
  if (word(tokens[mainAt + 1]) === 'FILES' || after?.text === '@' || after?.kind === 'string' || after?.text === '~') {
    c.object = 'location';
    add(c, 'exfiltration');
    if (from) c.sources.push(from.parts);
  } else {
    c.object = 'table';
    if (into) c.targets.push(into.parts);
    add(c, 'write');
    // Loading reads from a stage or an external location.
    add(c, 'stage');
  }
}

/** CREATE / ALTER / DROP / UNDROP [modifiers] <object type> [modifiers] <name> … */
function ddl({ c, tokens, words, mainAt }: Step, main: 'CREATE' | 'ALTER' | 'DROP' | 'UNDROP'): void {
  c.kind = main.toLowerCase() as Kind;
  let i = mainAt + 1;
  while (i < tokens.length && MODIFIERS.has(word(tokens[i]) ?? '')) {
    if (word(tokens[i]) === 'REPLACE') flag(c, 'replace');
    i++;
  }
  const obj = matchObject(tokens, i);
  if (obj) {
    c.object = obj.object;
    let j = obj.next;
    while (j < tokens.length && MODIFIERS.has(word(tokens[j]) ?? '')) j++;
    const name = readName(tokens, j);
    if (name) c.targets.push(name.parts);
  }
  add(c, 'ddl');
  if (c.kind === 'drop') add(c, 'destructive');
  if (c.flags.includes('replace')) add(c, 'destructive');
  if (words.includes('CLONE')) flag(c, 'clone');
  if (c.kind === 'alter' && words.some((w) => w === 'DROP' || w === 'SWAP' || w === 'RENAME' || w === 'UNSET')) {
    add(c, 'destructive');
  }
  if (c.object) for (const cat of OBJECT_CATEGORY[c.object] ?? []) add(c, cat);
  if (c.object === 'session') {
    // ALTER SESSION changes the shared warehouse session, not a schema object.
    c.categories = c.categories.filter((x) => x !== 'ddl');
  }
  if (c.object === 'database' || c.object === 'schema') {
    if (c.kind === 'drop') flag(c, 'drop_container');
  }
  if (!c.object) flag(c, 'unknown_object');
  // DROP/UNDROP <object> [IF EXISTS] <name> [CASCADE|RESTRICT] is fully explained by its tokens.
  if ((c.kind === 'drop' || c.kind === 'undrop') && c.object && c.targets.length === 1 && isSimple(tokens)) {
    c.lexicallyComplete = true;
  }
}

function grant({ c, words }: Step, main: 'GRANT' | 'REVOKE'): void {
  setKind(c, main === 'GRANT' ? 'grant' : 'revoke', 'privilege');
  // GRANT … TO SHARE hands data to another account.
  if (words.includes('SHARE')) add(c, 'exfiltration');
  if (c.flags.includes('admin_role') || words.includes('OWNERSHIP') || (words.includes('ALL') && words.includes('ACCOUNT'))) {
    add(c, 'account');
  }
}

function use({ c, tokens }: Step): void {
  c.kind = 'use';
  const obj = matchObject(tokens, 1);
  c.object = obj?.object ?? 'database';
  add(c, 'session');
  if (c.object === 'role' || c.object === 'secondary_roles') add(c, 'privilege');
  if (c.flags.includes('admin_role')) add(c, 'account');
  const name = readName(tokens, obj?.next ?? 1);
  if (name) c.targets.push(name.parts);
  c.lexicallyComplete = isSimple(tokens);
}

function describe({ c, tokens }: Step): void {
  setKind(c, 'describe', 'read');
  const obj = matchObject(tokens, 1);
  if (obj) c.object = obj.object;
  const name = readName(tokens, obj?.next ?? 1);
  if (name) c.targets.push(name.parts);
  c.lexicallyComplete = isSimple(tokens);
}

/** EXECUTE IMMEDIATE and EXECUTE TASK; any other EXECUTE is unknown. */
function execute({ c, tokens }: Step): void {
  if (word(tokens[1]) === 'IMMEDIATE') {
    setKind(c, 'execute_immediate', 'code');
  } else if (word(tokens[1]) === 'TASK') {
    setKind(c, 'execute_task', 'code');
    const name = readName(tokens, 2);
    if (name) c.targets.push(name.parts);
  } else {
    add(c, 'unknown');
  }
}

/** BEGIN [TRANSACTION|WORK] [NAME x] is a transaction; BEGIN … END is a script block. */
function begin({ c, tokens }: Step, main: 'BEGIN' | 'START'): void {
  if (main === 'START' && word(tokens[1]) !== 'TRANSACTION') {
    add(c, 'unknown');
    return;
  }
  if (tokens.slice(1).every((t) => ['TRANSACTION', 'WORK', 'NAME'].includes(t.text) || t.kind === 'quoted' || (t.kind === 'word' && tokens[tokens.indexOf(t) - 1]?.text === 'NAME'))) {
    setKind(c, 'begin', 'transaction');
    c.lexicallyComplete = true;
  } else {
    add(c, 'code', 'unknown');
    flag(c, 'script_block');
  }
}

/** Statements the tokens fully explain: words, names, literals, dots, commas, `=` and `@` only. */
function isSimple(tokens: readonly Token[]): boolean {
  return tokens.every((t) => t.kind !== 'symbol' || ['.', ',', '=', '@', '/', '*', '%'].includes(t.text));
}
