/**
 * Exports against real Redis and a real filesystem / S3-compatible server
 * (s3rver): resume after a crash without duplicates or gaps, tampering in an
 * export file detected, trimming only what was exported.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportAudit, readCheckpoint, trimAudit } from '../../src/audit/export.ts';
import { FsExportStore } from '../../src/audit/fs-store.ts';
import { MANIFEST_PREFIX, parseManifest } from '../../src/audit/manifest.ts';
import { RedisAuditLog } from '../../src/audit/redis-log.ts';
import { S3ExportStore } from '../../src/audit/s3-store.ts';
import { AuditSearch } from '../../src/audit/search.ts';
import type { ExportStore } from '../../src/audit/export-port.ts';
import { verifyAll, verifyExports } from '../../src/audit/verify.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { sessionEvents } from './fixtures.ts';

const prefixes: string[] = [];
const dirs: string[] = [];
let redis: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  for (const p of prefixes) await cleanupPrefix(p);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function setup(sessions = 6): Promise<{ log: RedisAuditLog; store: FsExportStore; dir: string }> {
  const prefix = uniquePrefix('audit-x');
  prefixes.push(prefix);
  const dir = await mkdtemp(join(tmpdir(), 'airlock-audit-'));
  dirs.push(dir);
  const log = new RedisAuditLog(redis, { prefix });
  for (let i = 0; i < sessions; i++) for (const e of sessionEvents({ id: `q${i}` })) await log.append(e);
  // Exports take events strictly before Redis's "now" (ms): let the last append fall behind it.
  await new Promise((r) => setTimeout(r, 5));
  return { log, store: new FsExportStore(dir), dir };
}

/** Every exported seq, across all manifests' files. */
async function exportedSeqs(store: ExportStore): Promise<number[]> {
  const seqs: number[] = [];
  for (const key of (await store.list(MANIFEST_PREFIX)).sort()) {
    const m = parseManifest((await store.get(key))!, key);
    const lines = gunzipSync((await store.get(m.file))!).toString().trim().split('\n');
    seqs.push(...lines.map((l) => (JSON.parse(l) as { seq: number }).seq));
  }
  return seqs;
}

/** A store that dies on the n-th put (before or after writing it), like a process killed mid-export. */
function dying(store: ExportStore, n: number, afterWrite = false): ExportStore {
  let puts = 0;
  return {
    description: 'dying',
    list: (p) => store.list(p),
    get: (k) => store.get(k),
    put: async (k, b, t) => {
      if (++puts === n && !afterWrite) throw new Error('killed');
      await store.put(k, b, t);
      if (puts === n) throw new Error('killed');
    },
  };
}

describe('export to the filesystem', () => {
  it('writes files and manifests that verify, with OCSF records beside them', async () => {
    const { log, store } = await setup();
    const r = await exportAudit({ log, store, ocsf: true, maxEventsPerFile: 10 });
    expect(r).toMatchObject({ events: 48, files: 5, checkpoint: { lastSeq: 48 } });
    expect(await exportedSeqs(store)).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
    expect((await store.list('ocsf/')).length).toBe(5);
    const ocsf = JSON.parse(gunzipSync((await store.get((await store.list('ocsf/')).sort()[0]!))!).toString().split('\n')[0]!);
    expect(ocsf).toMatchObject({ class_uid: 6003, type_uid: 600301, metadata: { correlation_uid: 'q0', sequence: 1 } });
    expect((await verifyAll(log, store)).ok).toBe(true);
    // Nothing new: a second run exports nothing.
    expect((await exportAudit({ log, store })).files).toBe(0);
  });

  it.each([
    ['after a data file, before its manifest', 3],
    ['after a manifest, before the checkpoint moved', 4],
  ])('resumes a run killed %s without duplicates or gaps', async (_, killAt) => {
    const { log, store } = await setup();
    // put order per file: data, manifest → put #3 is file 2's data, #4 its manifest (then the checkpoint)
    const killed = dying(store, killAt, killAt === 4);
    await expect(exportAudit({ log, store: killed, maxEventsPerFile: 10 })).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    const mid = await readCheckpoint(log);
    expect(mid.lastSeq).toBe(10);
    for (const e of sessionEvents({ id: 'late' })) await log.append(e);
    // An export takes events strictly before Redis's "now" (ms); let the last append fall behind it.
    await new Promise((r) => setTimeout(r, 5));
    const r = await exportAudit({ log, store, maxEventsPerFile: 10 });
    expect(await exportedSeqs(store)).toEqual(Array.from({ length: 56 }, (_, i) => i + 1));
    expect(r.checkpoint.lastSeq).toBe(56);
    expect(r.adopted).toBe(killAt === 4 ? 1 : 0);
    expect((await verifyExports(store)).ok).toBe(true);
  });

  it('detects an edited, a removed and a reordered event in an export file', async () => {
    for (const [change, kind] of [
      [(l: string[]) => l.map((x, i) => (i === 2 ? x.replace('C1', 'C9') : x)), 'edited'],
      [(l: string[]) => l.filter((_, i) => i !== 2), 'removed'],
      [(l: string[]) => l.map((_x, i) => l[i === 2 ? 3 : i === 3 ? 2 : i]!), 'reordered'],
    ] as const) {
      const { log, store } = await setup(2);
      await exportAudit({ log, store });
      const [key] = await store.list(MANIFEST_PREFIX);
      const m = parseManifest((await store.get(key!))!, key!);
      const lines = gunzipSync((await store.get(m.file))!).toString().trim().split('\n');
      await store.put(m.file, gzipSync(`${change(lines).join('\n')}\n`), 'application/gzip');
      const r = await verifyExports(store);
      expect(r.problem, kind).toMatchObject({ kind, seq: kind === 'reordered' ? 4 : 3 });
      expect(r.problem?.where).toContain(m.file);
    }
  });

  it('trims only exported events past retention and keeps the chain verifiable', async () => {
    const { log, store } = await setup(3);
    expect((await trimAudit({ log, retentionMs: 0 })).events).toBe(0); // nothing exported yet
    await exportAudit({ log, store });
    for (const e of sessionEvents({ id: 'after' })) await log.append(e);
    const t = await trimAudit({ log, retentionMs: 0 });
    expect(t).toMatchObject({ events: 24, sessions: 3, anchor: { seq: 24 } });
    expect(await redis.xlen(log.keys.stream)).toBe(8);
    expect((await verifyAll(log, store)).ok).toBe(true);
    const search = new AuditSearch(log);
    expect((await search.search({})).sessions.map((s) => s.id)).toEqual(['after']);
  });
});

describe('export to S3 (s3rver)', () => {
  let server: S3rver;
  let endpoint: string;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-s3rver-'));
    dirs.push(dir);
    server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('exports, resumes and verifies against an S3-compatible server', async () => {
    const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await client.send(new CreateBucketCommand({ Bucket: 'airlock-audit' }));
    const store = new S3ExportStore({ bucket: 'airlock-audit', keyPrefix: 'prod/', client });
    const { log } = await setup(4);
    await expect(exportAudit({ log, store: dying(store, 4), maxEventsPerFile: 8 })).rejects.toThrow();
    const r = await exportAudit({ log, store, maxEventsPerFile: 8 });
    expect(r.checkpoint.lastSeq).toBe(32);
    expect(await exportedSeqs(store)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect((await verifyAll(log, store)).ok).toBe(true);
    client.destroy();
  });
});
