/**
 * Finished query results, kept so the driver can fetch them again
 * (`GET /queries/{id}/result`, `getResultsFromQueryId`) and download their
 * chunks.
 *
 * A result is its first `chunkRows` rows inline plus gzip-compressed chunks of
 * `chunkRows` rows each (rows as `[..],[..]` without outer brackets, the form
 * the driver wraps in `[` `]` before parsing). Only compressed bytes are kept,
 * so a 100k-row result costs a few MB. Results expire after a TTL and the
 * oldest are dropped when the byte budget is exceeded.
 */
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Cell, RowTypeColumn } from './encode.ts';
import type { ParamValue } from '../snowflake-wire/parameters.ts';
import type { SessionContext } from './sessions.ts';

const gzipAsync = promisify(gzip);

/** One downloadable chunk. */
export interface StoredChunk {
  rowCount: number;
  uncompressedSize: number;
  body: Buffer;
}

/** A finished, successful query result. */
export interface StoredResult {
  queryId: string;
  rowtype: RowTypeColumn[];
  firstRows: Cell[][];
  chunks: StoredChunk[];
  total: number;
  statementTypeId: number;
  /** Secret the driver echoes through `chunkHeaders` when downloading chunks. */
  chunkKey: string;
  parameters: Record<string, ParamValue>;
  context: SessionContext;
  numberOfBinds: number;
  createdAt: number;
  bytes: number;
}

/** Accumulates encoded rows into the inline part and compressed chunks. */
export class ResultBuilder {
  readonly firstRows: Cell[][] = [];
  readonly chunks: StoredChunk[] = [];
  private parts: string[] = [];
  private partRows = 0;
  total = 0;

  constructor(private readonly chunkRows: number) {}

  /** Add rows; compresses a chunk each time one is full. */
  async add(rows: Cell[][]): Promise<void> {
    for (const row of rows) {
      this.total++;
      if (this.firstRows.length < this.chunkRows && this.chunks.length === 0 && this.partRows === 0) {
        this.firstRows.push(row);
        continue;
      }
      const text = JSON.stringify(row);
      this.parts.push(text);
      this.partRows++;
      if (this.partRows >= this.chunkRows) await this.flush();
    }
  }

  /** Compress the pending rows into a chunk. */
  async flush(): Promise<void> {
    if (this.partRows === 0) return;
    const raw = Buffer.from(this.parts.join(','), 'utf8');
    this.chunks.push({ rowCount: this.partRows, uncompressedSize: raw.length, body: await gzipAsync(raw) });
    this.parts = [];
    this.partRows = 0;
  }
}

/** Keeps results by query id, bounded by age and total compressed bytes. */
export class ResultStore {
  private readonly results = new Map<string, StoredResult>();
  private bytes = 0;

  constructor(
    private readonly limits: { ttlMs: number; maxBytes: number },
    private readonly now: () => number,
  ) {}

  /** Make a result from a finished builder and store it. */
  async save(
    init: Omit<StoredResult, 'firstRows' | 'chunks' | 'total' | 'chunkKey' | 'createdAt' | 'bytes'>,
    builder: ResultBuilder,
  ): Promise<StoredResult> {
    await builder.flush();
    const bytes =
      builder.chunks.reduce((n, c) => n + c.body.length, 0) +
      builder.firstRows.reduce((n, r) => n + r.reduce((m, c) => m + (c?.length ?? 4) + 3, 2), 0);
    const result: StoredResult = {
      ...init,
      firstRows: builder.firstRows,
      chunks: builder.chunks,
      total: builder.total,
      chunkKey: randomBytes(24).toString('base64'),
      createdAt: this.now(),
      bytes,
    };
    this.results.set(result.queryId, result);
    this.bytes += bytes;
    this.evict();
    return result;
  }

  /** A stored result, unless expired or evicted. */
  get(queryId: string): StoredResult | undefined {
    this.evict();
    return this.results.get(queryId);
  }

  /** Compressed bytes held, for tests and diagnostics. */
  get storedBytes(): number {
    return this.bytes;
  }

  private evict(): void {
    const cutoff = this.now() - this.limits.ttlMs;
    for (const [id, r] of this.results) {
      // Map order is insertion order: the oldest come first.
      if (r.createdAt > cutoff && this.bytes <= this.limits.maxBytes) break;
      this.results.delete(id);
      this.bytes -= r.bytes;
    }
  }
}
