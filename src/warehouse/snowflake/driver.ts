/**
 * Driver set-up: where snowflake-sdk logs, the private key, and the
 * connection options Airlock logs in with.
 */
import { readFile } from 'node:fs/promises';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import snowflake from 'snowflake-sdk';
import type { ConnectionOptions } from 'snowflake-sdk';
import { AirlockError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { ADAPTER_DEFAULTS, type SnowflakeSettings } from './settings.ts';

let driverConfigured = false;

/** Route the driver's own logging to ours (it otherwise writes snowflake.log in cwd and echoes to the console). */
export function configureDriver(logger?: Logger): void {
  if (driverConfigured) return;
  driverConfigured = true;
  const log = logger?.child({ component: 'snowflake-sdk' });
  const sink = (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') => (message: string) => {
    if (log) log[level]({ driver: true }, message);
  };
  snowflake.configure({
    logLevel: 'ERROR',
    additionalLogToConsole: false,
    customLogger: { error: sink('error'), warn: sink('warn'), info: sink('debug'), debug: sink('trace'), trace: sink('trace') },
  } as Parameters<typeof snowflake.configure>[0]);
}

/** Read and decrypt the key once; a wrong passphrase is a configuration error, not a login loop. */
export async function loadPrivateKey(settings: SnowflakeSettings): Promise<string | undefined> {
  let pem = settings.privateKey;
  if (!pem && settings.privateKeyPath) {
    try {
      pem = await readFile(settings.privateKeyPath, 'utf8');
    } catch (err) {
      throw new AirlockError('WAREHOUSE_AUTH', `Cannot read the Snowflake private key file (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, {
        details: { path: settings.privateKeyPath },
      });
    }
  }
  if (!pem) return undefined;
  try {
    const key = createPrivateKey({ key: pem, format: 'pem', passphrase: settings.privateKeyPassphrase });
    return key.export({ format: 'pem', type: 'pkcs8' }).toString();
  } catch {
    throw new AirlockError('WAREHOUSE_AUTH', 'The Snowflake private key cannot be loaded: wrong passphrase or not a PEM private key.');
  }
}

/**
 * `SHA256:<base64 sha256 of the SPKI DER public key>` of a private key: the
 * fingerprint Snowflake shows as `RSA_PUBLIC_KEY_FP` / `RSA_PUBLIC_KEY_2_FP`
 * (DESC USER), so an operator can see which slot a worker logs in with.
 */
export function keyFingerprint(privateKeyPem: string): string {
  const der = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64')}`;
}

/** The driver's connection options: key-pair auth unless only a password (emulator, tests) is given. */
export function connectionOptions(settings: SnowflakeSettings, privateKey: string | undefined): ConnectionOptions {
  return {
    account: settings.account,
    username: settings.user,
    ...(privateKey ? { authenticator: 'SNOWFLAKE_JWT', privateKey } : { password: settings.password }),
    ...(settings.accessUrl ? { accessUrl: settings.accessUrl } : {}),
    ...(settings.warehouse ? { warehouse: settings.warehouse } : {}),
    ...(settings.role ? { role: settings.role } : {}),
    ...(settings.database ? { database: settings.database } : {}),
    ...(settings.schema ? { schema: settings.schema } : {}),
    sfRetryMaxLoginRetries: settings.loginRetries ?? ADAPTER_DEFAULTS.loginRetries,
    clientSessionKeepAlive: true,
    application: 'Airlock',
  } as ConnectionOptions;
}
