/**
 * The sandbox's channel survives a restart of `airlock dev`: its messages,
 * ephemerals and modals are written to a file in dev's state directory after
 * every change (at most every 200 ms) and read back at start. Pending queries
 * live in Redis and outlast a restart; so do their cards, which Airlock keeps
 * updating by channel and ts as it would in Slack.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from '../log.ts';
import type { SlackWorkspace, WorkspaceSnapshot } from './workspace.ts';

const isSnapshot = (v: unknown): v is WorkspaceSnapshot =>
  typeof v === 'object' && v !== null && ['messages', 'ephemerals', 'views'].every((k) => Array.isArray((v as Record<string, unknown>)[k]));

/** Restore `workspace` from `path` (a missing or unreadable file starts an empty channel), then keep the file current. */
export async function persistWorkspace(workspace: SlackWorkspace, path: string, logger: Logger): Promise<{ flush(): Promise<void> }> {
  const raw = await readFile(path, 'utf8').catch(() => undefined);
  if (raw !== undefined) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (isSnapshot(parsed)) workspace.restore(parsed);
      else logger.warn({ component: 'sandbox', path }, 'the saved sandbox channel is not one; starting an empty channel');
    } catch {
      logger.warn({ component: 'sandbox', path }, 'the saved sandbox channel is unreadable; starting an empty channel');
    }
  }
  let timer: NodeJS.Timeout | undefined;
  let writing = Promise.resolve();
  const write = () => {
    timer = undefined;
    const tmp = `${path}.${process.pid}.tmp`;
    writing = writing
      .then(() => writeFile(tmp, JSON.stringify(workspace.snapshot()), { mode: 0o600 }))
      .then(() => rename(tmp, path))
      .catch((err: Error) => logger.warn({ component: 'sandbox', err: err.message }, 'could not save the sandbox channel'));
    return writing;
  };
  workspace.onChange(() => {
    timer ??= setTimeout(write, 200);
  });
  return {
    flush() {
      if (timer) {
        clearTimeout(timer);
        return write();
      }
      return writing;
    },
  };
}
