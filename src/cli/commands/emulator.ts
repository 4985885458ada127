/** `airlock emulator`: the Snowflake-wire emulator alone. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AirlockError } from '../../errors.ts';
import { logger, onShutdown, stderr } from '../lib/process.ts';

/** `airlock emulator [--port N] [--db FILE] [--seed demo] …`: prints its URL on stdout, runs until Ctrl-C. */
export async function emulator(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      seed: { type: 'string' },
      account: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      'public-key': { type: 'string' },
      'public-key-2': { type: 'string' },
    },
    strict: true,
  });
  const port = values.port === undefined ? 8085 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AirlockError('BAD_REQUEST', `--port must be 0-65535, not ${values.port}.`);
  if (values.seed !== undefined && values.seed !== 'demo' && values.seed !== 'none') {
    throw new AirlockError('BAD_REQUEST', `--seed takes "demo" or "none", not "${values.seed}".`);
  }
  const publicKeyPem = await readPublicKey(values['public-key']);
  // Snowflake's second key slot (RSA_PUBLIC_KEY_2), for rehearsing a rotation; ALTER USER … SET/UNSET changes either slot later.
  const publicKeyPem2 = await readPublicKey(values['public-key-2']);
  const password = values.password ?? (publicKeyPem || publicKeyPem2 ? undefined : 'airlock');
  const { startEmulator } = await import('../../emulator/server.ts');
  stderr('Starting the Snowflake-wire emulator…');
  const t0 = performance.now();
  const emu = await startEmulator({
    host: values.host ?? '127.0.0.1',
    port,
    seed: values.seed === 'none' ? 'none' : 'demo',
    account: values.account ?? 'EMU',
    user: values.user ?? 'AIRLOCK',
    ...(values.db ? { dbFile: values.db } : {}),
    ...(password ? { password } : {}),
    ...(publicKeyPem ? { publicKeyPem } : {}),
    ...(publicKeyPem2 ? { publicKeyPem2 } : {}),
    logger: logger(),
  });
  stderr(`ready in ${Math.round(performance.now() - t0)} ms; account ${values.account ?? 'EMU'}, user ${values.user ?? 'AIRLOCK'}` +
    `${password && !values.password ? ', password airlock' : ''}${publicKeyPem || publicKeyPem2 ? ', key pair accepted' : ''}`);
  process.stdout.write(`${emu.url}\n`);
  await onShutdown(() => emu.close());
  return 0;
}

/** A public key file's PEM, or undefined when no file is named. */
async function readPublicKey(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new AirlockError('BAD_REQUEST', `Cannot read the public key file ${path}.`);
  }
}
