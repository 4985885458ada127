/** Result cursors: opaque to agents, a row offset inside. */
import { AirlockError } from '../errors.ts';

/** Cursors are opaque to agents; today they carry a row offset. */
export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

/** The row offset a cursor carries; BAD_REQUEST for anything not made by {@link encodeCursor}. */
export function decodeCursor(cursor: string): number {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { o?: unknown };
    if (typeof value.o === 'number' && Number.isSafeInteger(value.o) && value.o >= 0) return value.o;
  } catch {
    // fall through
  }
  throw new AirlockError('BAD_REQUEST', 'The cursor is not valid; use the nextCursor value from a previous page.');
}
