/**
 * The stdin mode of `airlock policy check`: JSON lines in, one decision or one
 * error per non-blank line out, read as bytes so a bad line is reported on its
 * own line and the run goes on.
 */
import { once } from 'node:events';
import { asAirlockError, type AirlockErrorCode } from '../../errors.ts';
import type { Decision } from '../../policy/decision.ts';
import { stderr } from './process.ts';

/** Request fields accepted on each stdin line of `airlock policy check`. */
export interface CheckRequest {
  sql: string;
  agent?: string;
  groups?: string[];
}

/** An error for one stdin line: reported on its line, and the run goes on. */
class LineError extends Error {
  constructor(
    readonly code: AirlockErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Parse one stdin line into a request, or throw a {@link LineError} that says what is wrong. */
function parseRequestLine(bytes: Buffer): CheckRequest {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LineError('INVALID_JSON', 'The line is not valid UTF-8; JSON lines must be UTF-8 text.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LineError('INVALID_JSON', `The line is not valid JSON (${err instanceof Error ? err.message : String(err)}).`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LineError('VALIDATION_FAILED', 'Each line must be a JSON object like {"sql": "select 1"}.');
  }
  const { sql, agent, groups } = value as Record<string, unknown>;
  if (sql === undefined) throw new LineError('VALIDATION_FAILED', 'The object has no "sql" field.');
  if (typeof sql !== 'string') throw new LineError('VALIDATION_FAILED', '"sql" must be a string.');
  if (agent !== undefined && (typeof agent !== 'string' || agent === '')) {
    throw new LineError('VALIDATION_FAILED', '"agent" must be a non-empty string when given.');
  }
  if (groups !== undefined && !(Array.isArray(groups) && groups.every((g) => typeof g === 'string'))) {
    throw new LineError('VALIDATION_FAILED', '"groups" must be an array of strings when given.');
  }
  return { sql, ...(agent !== undefined ? { agent } : {}), ...(groups !== undefined ? { groups } : {}) };
}

/**
 * Lines of bytes from a stream, without decoding (so invalid UTF-8 is reported
 * per line) and without ever holding more than `maxBytes` of one line: a longer
 * line is skipped up to its newline and reported as too long.
 */
async function* byteLines(input: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<{ line: number; bytes?: Buffer; length: number }> {
  let parts: Buffer[] = [];
  let length = 0;
  let line = 1;
  const take = (chunk: Buffer) => {
    if (length + chunk.length <= maxBytes) parts.push(chunk);
    else parts = [];
    length += chunk.length;
  };
  const finish = () => {
    const out = length <= maxBytes ? { line, bytes: Buffer.concat(parts, length), length } : { line, length };
    parts = [];
    length = 0;
    line++;
    return out;
  };
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      take(chunk.subarray(start, nl));
      yield finish();
      start = nl + 1;
    }
    if (start < chunk.length) take(chunk.subarray(start));
  }
  if (length > 0) yield finish();
}

/** The stdin mode of `airlock policy check`: one decision or one error per non-blank line. */
export async function checkJsonLines(evaluate: (req: CheckRequest) => Decision, maxSqlBytes: number): Promise<number> {
  // JSON escapes can make the line longer than the SQL it carries; past this it is too big whatever it holds.
  const maxLineBytes = 4 * maxSqlBytes + 64 * 1024;
  const counts = { allow: 0, review: 0, deny: 0, errors: 0 };
  const write = async (value: unknown) => {
    if (!process.stdout.write(`${JSON.stringify(value)}\n`)) await once(process.stdout, 'drain');
  };
  for await (const { line, bytes, length } of byteLines(process.stdin, maxLineBytes)) {
    let out: unknown;
    try {
      if (!bytes) throw new LineError('SQL_TOO_LARGE', `The line is ${length} bytes; lines may be at most ${maxLineBytes} bytes (the SQL at most ${maxSqlBytes}, AIRLOCK_MAX_SQL_BYTES).`);
      // Blank lines (and a trailing newline) carry no request; CRLF input is fine.
      const trimmed = bytes[bytes.length - 1] === 13 ? bytes.subarray(0, -1) : bytes;
      if (trimmed.every((b) => b === 32 || b === 9)) continue;
      const decision = evaluate(parseRequestLine(trimmed));
      counts[decision.action]++;
      out = decision;
    } catch (err) {
      counts.errors++;
      const e = err instanceof LineError ? err : asAirlockError(err);
      out = { error: { code: e.code, message: e.message }, line };
    }
    await write(out);
  }
  stderr(`policy check: ${counts.allow} allow, ${counts.review} review, ${counts.deny} deny, ${counts.errors} bad line${counts.errors === 1 ? '' : 's'}`);
  return 0;
}
