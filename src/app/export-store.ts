/** Choose the export store from the configuration (DESIGN §3, §5). */
import { join } from 'node:path';
import type { Config } from '../config/env.ts';
import { FsExportStore } from '../audit/fs-store.ts';
import { S3ExportStore } from '../audit/s3-store.ts';
import type { ExportStore } from '../audit/export-port.ts';

/** Where exports go when nothing is configured: a local folder, as in `airlock dev`. */
export const DEFAULT_EXPORT_DIR = join('.airlock', 'exports');

/** S3 when `AIRLOCK_EXPORT_S3_BUCKET` is set, else `AIRLOCK_EXPORT_DIR`, else `.airlock/exports`. */
export function exportStoreFromConfig(config: Pick<Config, 'AIRLOCK_EXPORT_DIR' | 'AIRLOCK_EXPORT_S3_BUCKET' | 'AWS_ENDPOINT_URL_S3'>): ExportStore {
  if (config.AIRLOCK_EXPORT_S3_BUCKET) {
    return new S3ExportStore({ bucket: config.AIRLOCK_EXPORT_S3_BUCKET, ...(config.AWS_ENDPOINT_URL_S3 ? { endpoint: config.AWS_ENDPOINT_URL_S3 } : {}) });
  }
  return new FsExportStore(config.AIRLOCK_EXPORT_DIR ?? DEFAULT_EXPORT_DIR);
}
