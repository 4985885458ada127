/**
 * SQL in ``` code blocks: made safe for a fence, escaped, and cut into chunks
 * that each fit one section. Used by the card (as much as fits) and its thread
 * replies (all of it). Pure.
 */
import { escapeMrkdwn } from './mrkdwn.ts';
import { MAX_SECTION_TEXT } from '../limits.ts';

const FENCE_OVERHEAD = 8; // "```\n" + "\n```"
/** Escaped SQL characters per code-block section (leaves room for the fences). */
export const SQL_CHUNK_CHARS = MAX_SECTION_TEXT - FENCE_OVERHEAD - 92;

/** Makes SQL safe inside a ``` block: normalized newlines, no fence terminators. */
export function codeSafe(sql: string): string {
  return sql.replace(/\r\n?/g, '\n').replace(/```/g, '`\u200b``').replace(/^\s*\n/, '').trimEnd();
}

/**
 * Splits SQL into escaped chunks of at most `max` characters, at line
 * boundaries where possible; a line longer than `max` is cut at code points.
 * Returns escaped chunks and the raw line count each ends at.
 */
export function splitSql(sql: string, max = SQL_CHUNK_CHARS): { text: string; endLine: number }[] {
  const lines = codeSafe(sql).split('\n');
  const chunks: { text: string; endLine: number }[] = [];
  let cur = '';
  const flush = (endLine: number): void => {
    if (cur.length) chunks.push({ text: cur, endLine });
    cur = '';
  };
  lines.forEach((raw, i) => {
    const line = escapeMrkdwn(raw);
    if (cur.length && cur.length + 1 + line.length > max) flush(i);
    if (line.length <= max) {
      cur = cur.length ? `${cur}\n${line}` : line;
      return;
    }
    // A single very long line: cut it without splitting an escape or a surrogate pair.
    for (const ch of Array.from(raw)) {
      const e = escapeMrkdwn(ch);
      if (cur.length + e.length > max) flush(i);
      cur += e;
    }
  });
  flush(lines.length);
  return chunks.length ? chunks : [{ text: '(empty statement)', endLine: 0 }];
}

/** Wraps already-escaped text in a ``` code block. */
export const fenced = (s: string): string => `\`\`\`\n${s}\n\`\`\``;
