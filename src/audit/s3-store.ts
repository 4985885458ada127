/**
 * Export store on S3 or an S3-compatible server (MinIO, s3rver):
 * `AIRLOCK_EXPORT_S3_BUCKET`, with `AWS_ENDPOINT_URL_S3` and path-style
 * addressing for local servers. Credentials come from the AWS SDK's usual chain.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { ExportStore } from './export-port.ts';

export interface S3ExportStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket (e.g. `airlock/`). */
  keyPrefix?: string;
  /** An injected client (tests, custom credentials); else one is built from `endpoint`. */
  client?: S3Client;
  endpoint?: string;
  region?: string;
}

export class S3ExportStore implements ExportStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly options: S3ExportStoreOptions) {
    this.prefix = options.keyPrefix ?? '';
    this.description = `s3://${options.bucket}/${this.prefix}`;
    const config: S3ClientConfig = {
      region: options.region ?? 'us-east-1',
      // Path-style works with every S3-compatible server; virtual hosts need DNS per bucket.
      forcePathStyle: Boolean(options.endpoint),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    };
    this.client = options.client ?? new S3Client(config);
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: this.prefix + key, Body: body, ContentType: contentType }));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.prefix + key }));
      if (!out.Body) return Buffer.alloc(0);
      return Buffer.from(await out.Body.transformToByteArray());
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: this.prefix + prefix, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key.slice(this.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  close(): void {
    this.client.destroy();
  }
}
