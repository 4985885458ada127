/**
 * Large results in chunks: the first rows inline, the rest as absolute URLs
 * the driver fetches without its session token (as it fetches S3 links).
 *
 * A chunk URL names the session and an unguessable grant (256 random bits);
 * the driver also sends the grant's key from `chunkHeaders`. A grant lives
 * {@link CHUNK_GRANT_SECONDS} and only while its session does (logout ends
 * it), and serves rows of the one query it was made for, read through the
 * query service as the session's agent. Chunks are built on request from the
 * stored (already masked) result, so no replica keeps state.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Redis } from 'ioredis';
import { isAirlockError } from '../../errors.ts';
import { encodeCursor } from '../../queries/cursor.ts';
import type { QueryService } from '../../queries/service.ts';
import { CHUNK_KEY_HEADER } from '../envelope.ts';
import type { WireChunk } from '../port.ts';
import type { WireKeys } from './keys.ts';
import { encodeRows, type CellEncoding } from './rowset.ts';
import { guard, type WireSessionStore } from './sessions.ts';

const gzipAsync = promisify(gzip);

/** Where chunk URLs live on the API's server. */
export const CHUNK_PREFIX = '/snowflake-wire/chunks';
/** How long a result's chunk links work. */
export const CHUNK_GRANT_SECONDS = 15 * 60;

/** What a grant lets its holder read. */
interface Grant {
  queryId: string;
  keyHash: string;
  /** Rows sent inline; chunk n starts at `inline + n * chunkRows`. */
  inline: number;
  chunkRows: number;
  total: number;
  encodings: CellEncoding[];
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Hands out and serves chunk links. */
export class ChunkLinks {
  constructor(
    private readonly redis: Redis,
    private readonly keys: WireKeys,
    private readonly sessions: WireSessionStore,
    private readonly queries: QueryService,
  ) {}

  /** Links for the rows after the first `inline` of a result, and the headers the driver must send with them. */
  async grant(
    sessionId: string,
    layout: Omit<Grant, 'keyHash'>,
    baseUrl: string,
  ): Promise<{ chunks: WireChunk[]; chunkHeaders: Record<string, string> }> {
    const id = randomBytes(32).toString('base64url');
    const key = randomBytes(32).toString('base64url');
    const grant: Grant = { ...layout, keyHash: sha(key) };
    await guard(() => this.redis.set(this.keys.chunks(sessionId, id), JSON.stringify(grant), 'EX', CHUNK_GRANT_SECONDS));
    const chunks: WireChunk[] = [];
    for (let start = layout.inline, n = 0; start < layout.total; start += layout.chunkRows, n++) {
      chunks.push({ url: `${baseUrl}${CHUNK_PREFIX}/${sessionId}/${id}/${n}`, rowCount: Math.min(layout.chunkRows, layout.total - start) });
    }
    return { chunks, chunkHeaders: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', [CHUNK_KEY_HEADER]: key } };
  }

  /** The gzip body of chunk `n`, or why not. */
  async serve(segments: string[], key: string): Promise<Buffer | 'forbidden' | 'missing'> {
    const [sessionId, id, n] = segments;
    if (segments.length !== 3 || !sessionId || !id || !/^[A-Za-z0-9_-]{43}$/.test(id) || !/^\d{1,6}$/.test(n ?? '')) return 'missing';
    const raw = await guard(() => this.redis.get(this.keys.chunks(sessionId, id)));
    const session = raw ? await this.sessions.byId(sessionId) : undefined;
    if (!raw || !session) return 'missing';
    const grant = JSON.parse(raw) as Grant;
    const given = Buffer.from(sha(key));
    if (!timingSafeEqual(given, Buffer.from(grant.keyHash))) return 'forbidden';
    const offset = grant.inline + Number(n) * grant.chunkRows;
    if (offset >= grant.total) return 'missing';
    const page = await this.queries
      .results(session.requester, grant.queryId, encodeCursor(offset), Math.min(grant.chunkRows, grant.total - offset))
      .catch((err: unknown) => {
        // An expired result is gone for the driver too; anything else (Redis down) is the router's to report.
        if (isAirlockError(err, 'RESULT_EXPIRED') || isAirlockError(err, 'NOT_FOUND')) return undefined;
        throw err;
      });
    if (!page) return 'missing';
    const rows = encodeRows(page.rows, grant.encodings);
    // The driver wraps the body in `[` `]` before parsing: rows without the outer brackets.
    return gzipAsync(Buffer.from(rows.map((r) => JSON.stringify(r)).join(',')));
  }
}
