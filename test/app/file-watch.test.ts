/**
 * The file watch behind hot reload, on real files in a temporary directory:
 * a change is reported once per new content (not per event), a rewrite with
 * the same bytes is not a change, `check()` (SIGHUP) and the poll find a
 * change without any directory event, and an unreadable file is reported
 * without losing the last content.
 */
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentHash, watchFile, type FileWatch } from '../../src/app/file-watch.ts';
import { until } from '../support/until.ts';

let dir: string;
let file: string;
let watch: FileWatch | undefined;
let seen: string[];
let unreadable: string[];

function start(initial: string, pollMs = 0): FileWatch {
  watch = watchFile(file, contentHash(initial), {
    pollMs,
    settleMs: 20,
    onChange: async (content) => void seen.push(content.toString('utf8')),
    onUnreadable: (err) => void unreadable.push(err.code ?? 'error'),
  });
  return watch;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-file-watch-'));
  file = join(dir, 'policy.yaml');
  await writeFile(file, 'one');
  seen = [];
  unreadable = [];
});

afterEach(async () => {
  watch?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('watchFile', () => {
  it('reports a file replaced by rename once, with its new content', async () => {
    start('one');
    await writeFile(join(dir, 'next'), 'two');
    await rename(join(dir, 'next'), file);
    await until('the change', () => seen.length > 0, 5000);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual(['two']);
  });

  it('ignores a rewrite with the same content', async () => {
    const w = start('one');
    await writeFile(file, 'one');
    await w.check();
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([]);
  });

  it('finds a change on check() (SIGHUP) even when no event is waited for', async () => {
    const w = start('one');
    await writeFile(file, 'three');
    await w.check();
    expect(seen).toEqual(['three']);
  });

  it('finds a change by polling', async () => {
    // A watch on a directory that does not exist yet has no events: only the poll can see the file appear.
    file = join(dir, 'later', 'policy.yaml');
    start('', 50);
    await until('an unreadable report', () => unreadable.length > 0, 5000);
    expect(unreadable[0]).toBe('ENOENT');
    await rm(join(dir, 'later'), { recursive: true, force: true });
    await mkdir(join(dir, 'later'));
    await writeFile(file, 'four');
    await until('the polled change', () => seen.length > 0, 5000);
    expect(seen).toEqual(['four']);
  });

  it('reports a removed file as unreadable and the same content again as no change', async () => {
    const w = start('one');
    await unlink(file);
    await w.check();
    expect(unreadable).toContain('ENOENT');
    await writeFile(file, 'one');
    await w.check();
    expect(seen).toEqual([]);
  });
});
