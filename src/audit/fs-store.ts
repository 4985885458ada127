/** Export store on the local filesystem (`AIRLOCK_EXPORT_DIR`). */
import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { AirlockError } from '../errors.ts';
import type { ExportStore } from './export-port.ts';

export class FsExportStore implements ExportStore {
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = `dir ${dir}`;
  }

  private path(key: string): string {
    if (key.split('/').some((part) => part === '..' || part === '')) throw new AirlockError('BAD_REQUEST', `Invalid export key ${key}.`);
    return join(this.dir, ...key.split('/'));
  }

  async put(key: string, body: Buffer, _contentType?: string): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    // Write aside, then rename: a crash never leaves half a file under the real name.
    const tmp = `${path}.${randomUUID().slice(0, 8)}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, path);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const path = join(dir, e.name);
        if (e.isDirectory()) await walk(path);
        else if (!e.name.endsWith('.tmp')) out.push(relative(this.dir, path).split(sep).join('/'));
      }
    };
    await walk(this.dir);
    return out.filter((k) => k.startsWith(prefix));
  }
}
