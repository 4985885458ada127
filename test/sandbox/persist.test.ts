/**
 * The sandbox's channel outlasts a restart of `airlock dev`: what one sandbox
 * saved, the next one shows, and Airlock can keep updating those cards.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createSandbox } from '../../src/sandbox/server.ts';

const logger = createLogger({ level: 'silent' });
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-sandbox-persist-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const start = (stateFile: string) => createSandbox({ origin: 'http://127.0.0.1:1', logger, stateFile });

describe('the sandbox channel across restarts', () => {
  it('restores messages and ephemerals; the restored card can be updated and new messages come after it', async () => {
    const file = join(dir, 'channel.json');
    const first = start(file);
    await first.ready;
    const posted = first.workspace.call('chat.postMessage', { channel: 'C0SANDBOX', text: 'card', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*card*' } }] });
    first.workspace.call('chat.postEphemeral', { channel: 'C0SANDBOX', user: 'U0SBDANA', text: 'only Dana' });
    await first.close();

    const second = start(file);
    await second.ready;
    const ts = String(posted.body.ts);
    expect(second.workspace.messages.get(ts)?.text).toBe('card');
    expect(second.workspace.ephemerals.map((e) => e.text)).toEqual(['only Dana']);
    expect(second.workspace.call('chat.update', { channel: 'C0SANDBOX', ts, text: 'card, decided' }).body.ok).toBe(true);
    const later = second.workspace.call('chat.postMessage', { channel: 'C0SANDBOX', text: 'next' });
    expect(Number(later.body.ts)).toBeGreaterThan(Number(ts));
    await second.close();
  });

  it('starts an empty channel from a file that is not a saved channel', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{"messages": "no"');
    const sandbox = start(file);
    await sandbox.ready;
    expect(sandbox.workspace.messages.size).toBe(0);
    await sandbox.close();
  });
});
