/**
 * Notice that a file's content changed, without trusting any one signal.
 *
 * A Kubernetes ConfigMap or Secret volume never writes the file in place: the
 * kubelet writes a new timestamped directory and swaps the `..data` symlink,
 * so a watch on the file itself sees nothing (or goes stale after the first
 * swap). So the watch is on the file's directory, every event there leads to
 * a re-read, and only a changed sha256 of the content counts as a change.
 * `fs.watch` is not reliable everywhere (network file systems, some container
 * overlays), so a slow poll does the same comparison as a fallback, and
 * {@link FileWatch.check} lets SIGHUP force it.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** How a watch is set up. */
export interface FileWatchOptions {
  /** Poll interval in ms as the fallback to directory events; 0 turns polling off. */
  pollMs: number;
  /** Called with the new content when its hash differs from the last one seen. Errors are the caller's to log. */
  onChange(content: Buffer): Promise<void>;
  /** Called when the file cannot be read (removed, permission); the last content stays in force. */
  onUnreadable(err: NodeJS.ErrnoException): void;
  /** Directory events arrive in bursts (a ConfigMap swap is several renames): wait this long for quiet. Default 100 ms. */
  settleMs?: number;
}

/** A running watch. */
export interface FileWatch {
  /** Re-read now and report a change, as an event or a poll would (SIGHUP). Resolves once handled. */
  check(): Promise<void>;
  close(): void;
}

/** sha256 of content, hex: what "changed" means here. */
export function contentHash(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * Watch `path`, whose content right now hashes to `initialHash` (what the
 * caller loaded at start), and call `onChange` for each different content.
 * Checks never overlap: one that arrives while another runs is run after it.
 */
export function watchFile(path: string, initialHash: string, options: FileWatchOptions): FileWatch {
  let lastHash = initialHash;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let settle: NodeJS.Timeout | undefined;

  const checkOnce = async (): Promise<void> => {
    let content: Buffer;
    try {
      content = await readFile(path);
    } catch (err) {
      options.onUnreadable(err as NodeJS.ErrnoException);
      return;
    }
    const hash = contentHash(content);
    if (hash === lastHash || closed) return;
    lastHash = hash;
    await options.onChange(content);
  };

  const check = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await checkOnce().catch(() => undefined);
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const soon = () => {
    if (closed) return;
    clearTimeout(settle);
    settle = setTimeout(() => void check(), options.settleMs ?? 100);
    settle.unref();
  };

  let watcher: FSWatcher | undefined;
  try {
    // The directory, not the file: the file may be a symlink that is swapped, or replaced by rename.
    watcher = watch(dirname(path), { persistent: false }, soon);
    watcher.on('error', () => undefined);
  } catch {
    // No directory events here (e.g. the directory is gone); the poll still works.
    watcher = undefined;
  }
  const poll = options.pollMs > 0 ? setInterval(() => void check(), options.pollMs) : undefined;
  poll?.unref();

  return {
    check,
    close() {
      closed = true;
      clearTimeout(settle);
      if (poll) clearInterval(poll);
      watcher?.close();
    },
  };
}
