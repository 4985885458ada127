import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';

describe('logger redaction', () => {
  it('censors tokens, keys and passwords at the top level and one level down', async () => {
    let out = '';
    const destination = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger({ level: 'info', destination });
    const secrets = {
      password: 'hunter2-pass',
      token: 'eyJhbGciOi.secret.token',
      privateKey: '-----BEGIN PRIVATE KEY-----MIIEvQ',
      req: { headers: { authorization: 'Bearer abc.def.ghi' } },
      connection: { password: 'nested-pass', passphrase: 'key-passphrase', masterToken: 'mt-123' },
      config: { SLACK_BOT_TOKEN: 'xoxb-1234', SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'pp-9' },
    };
    log.info(secrets, 'login');
    log.flush();
    await new Promise((r) => setImmediate(r));
    expect(out).toContain('"msg":"login"');
    for (const value of ['hunter2-pass', 'secret.token', 'BEGIN PRIVATE KEY', 'abc.def.ghi', 'nested-pass', 'key-passphrase', 'mt-123', 'xoxb-1234', 'pp-9']) {
      expect(out).not.toContain(value);
    }
    expect(out).toContain('[REDACTED]');
  });
});
