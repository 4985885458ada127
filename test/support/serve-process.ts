/**
 * `airlock serve --roles …` as a real child process, the way a deployment runs
 * it (`npm run --silent airlock -- serve`): its JSON log lines read back, its
 * operations port found from the start-up line, stopped with SIGTERM (then
 * SIGKILL) on its whole process group so no tsx or node child outlives a test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { until } from './until.ts';

/** A running `airlock serve`. */
export interface ServeProcess {
  /** `http://127.0.0.1:PORT` of its HTTP server (operations routes in every role). */
  url: string;
  /** Every JSON log line so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  /** Wait until a log line matches; returns it. */
  waitForLog(what: string, match: (line: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  /** Send a signal to the Airlock node process itself (its pid from its log lines), not to npm or tsx (SIGHUP asks for a reload). */
  signal(name: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/** Start `airlock serve --roles <roles>` with exactly `env` (plus PATH and HOME); resolves once it serves. */
export async function startServe(roles: string, env: Record<string, string>, startMs = 60_000): Promise<ServeProcess> {
  const child: ChildProcess = spawn('npm', ['run', '--silent', 'airlock', '--', 'serve', '--roles', roles], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AIRLOCK_HOST: '127.0.0.1', AIRLOCK_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: Array<Record<string, unknown>> = [];
  const text: string[] = [];
  let rest = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const all = rest + chunk.toString('utf8');
    const parts = all.split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      text.push(line);
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  child.stdout!.resume();
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const group = (signal: NodeJS.Signals) => {
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    }
  };
  const stop = async () => {
    group('SIGTERM');
    await until('airlock serve to exit', () => exited, 20_000).catch(() => group('SIGKILL'));
  };
  try {
    const started = await until(
      `airlock serve --roles ${roles} to start`,
      () => {
        if (exited) throw new Error(`airlock serve --roles ${roles} exited:\n${text.join('\n')}`);
        return text.find((l) => l.startsWith('airlock serving roles'));
      },
      startMs,
    );
    const url = /on (http:\/\/\S+)/.exec(started)?.[1];
    if (!url) throw new Error(`no URL in: ${started}`);
    return {
      url,
      logs: () => lines,
      waitForLog: (what, match, ms = 15_000) => until(what, () => lines.find(match), ms),
      signal: (name) => {
        const pid = lines.find((l) => typeof l.pid === 'number')?.pid as number | undefined;
        if (!pid) throw new Error('no log line named the process id yet');
        process.kill(pid, name);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
