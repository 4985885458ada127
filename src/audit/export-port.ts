/** Where exports go: a small port with a filesystem and an S3 adapter. */
export interface ExportStore {
  /** For messages: `dir /var/airlock` or `s3://bucket`. */
  readonly description: string;
  /** Write an object whole (a reader never sees half of it). */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** Read an object; undefined when absent. */
  get(key: string): Promise<Buffer | undefined>;
  /** Keys under a prefix, in any order. */
  list(prefix: string): Promise<string[]>;
}
