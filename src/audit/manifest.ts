/** The manifest written next to each export file, and where files go in the store. */
import { AirlockError } from '../errors.ts';

export const MANIFEST_PREFIX = 'manifests/';

/** Describes one export file; written after the file, so its presence means the file is complete. */
export interface ExportManifest {
  kind: 'airlock.audit.export';
  version: 1;
  /** Key of the gzip JSONL file in the store. */
  file: string;
  /** Key of the OCSF file, when written. */
  ocsfFile?: string;
  /** The time window (stream time) the events fall in: [from, to). */
  window: { from: string; to: string };
  count: number;
  firstSeq: number;
  lastSeq: number;
  firstId: string;
  lastId: string;
  /** prevHash of the first event: links this file to the previous one. */
  prevHash: string;
  firstHash: string;
  lastHash: string;
  /** sha256 of the gzip file as stored. */
  sha256: string;
  bytes: number;
  /** The seq the export series started at (1 unless the first export began later on purpose). */
  seriesStartSeq: number;
}

const pad = (n: number) => String(n).padStart(12, '0');

/** Deterministic names: re-exporting the same events writes the same keys. */
export function exportKeys(windowFrom: Date, firstSeq: number, lastSeq: number): { file: string; ocsf: string; manifest: string } {
  const iso = windowFrom.toISOString();
  const day = iso.slice(0, 10).replaceAll('-', '/');
  const stamp = iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const name = `${stamp}_${pad(firstSeq)}-${pad(lastSeq)}`;
  return {
    file: `events/${day}/${name}.jsonl.gz`,
    ocsf: `ocsf/${day}/${name}.ocsf.jsonl.gz`,
    manifest: `${MANIFEST_PREFIX}${pad(firstSeq)}-${pad(lastSeq)}.json`,
  };
}

/** Key prefix of the manifest of a file starting at `firstSeq` (resume looks it up). */
export function manifestPrefixFor(firstSeq: number): string {
  return `${MANIFEST_PREFIX}${pad(firstSeq)}-`;
}

export function parseManifest(body: Buffer, key: string): ExportManifest {
  try {
    const m = JSON.parse(body.toString('utf8')) as ExportManifest;
    if (m.kind !== 'airlock.audit.export' || typeof m.firstSeq !== 'number' || typeof m.file !== 'string') throw new TypeError('not a manifest');
    return m;
  } catch (err) {
    throw new AirlockError('VALIDATION_FAILED', `Export manifest ${key} is not readable.`, { cause: err });
  }
}
