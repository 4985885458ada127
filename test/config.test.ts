import { describe, expect, it } from 'vitest';
import { checkEnv, loadConfig, redisUrl } from '../src/config/env.ts';
import { isAirlockError } from '../src/errors.ts';

describe('config', () => {
  it('applies defaults on an empty environment', () => {
    const config = loadConfig({});
    expect(config.AIRLOCK_PORT).toBe(8080);
    expect(config.AIRLOCK_REDIS_PREFIX).toBe('airlock');
    expect(config.AIRLOCK_OIDC_ALGORITHMS).toEqual(['RS256', 'ES256', 'PS256', 'EdDSA']);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('has one default Redis URL, and REDIS_URL stays unset so dev can start its own Redis', () => {
    const config = loadConfig({});
    expect(config.REDIS_URL).toBeUndefined();
    expect(redisUrl(config)).toBe('redis://127.0.0.1:6379');
    expect(redisUrl(loadConfig({ REDIS_URL: 'redis://10.0.0.5:6380/2' }))).toBe('redis://10.0.0.5:6380/2');
  });

  it('gives the audit settings their defaults in the schema, which airlock audit reads as they are', () => {
    const config = loadConfig({});
    expect(config.AIRLOCK_AUDIT_RETENTION_SECONDS).toBe(30 * 24 * 3600);
    expect(config.AIRLOCK_AUDIT_EXPORT_WINDOW_SECONDS).toBe(3600);
    expect(config.AIRLOCK_AUDIT_OCSF).toBe(false);
  });

  it('names every problem with its variable', () => {
    const { config, problems } = checkEnv({
      AIRLOCK_PORT: 'eighty',
      AIRLOCK_PROT: '1',
      REDIS_URL: 'not a url',
      OIDC_ISSUER: 'http://127.0.0.1:9/',
      AIRLOCK_OIDC_ALGORITHMS: 'RS256,none',
    });
    expect(config).toBeUndefined();
    const vars = problems.map((p) => p.variable).sort();
    expect(vars).toEqual(['AIRLOCK_OIDC_ALGORITHMS', 'AIRLOCK_PORT', 'AIRLOCK_PROT', 'REDIS_URL']);
  });

  it('reports cross-field problems once the fields parse', () => {
    const { problems } = checkEnv({ OIDC_ISSUER: 'http://127.0.0.1:9/', SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'x' });
    expect(problems.map((p) => p.variable).sort()).toEqual(['OIDC_AUDIENCE', 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE']);
  });

  it('throws CONFIG_INVALID listing the problems', () => {
    try {
      loadConfig({ AIRLOCK_PORT: '-1' });
      expect.unreachable();
    } catch (err) {
      expect(isAirlockError(err, 'CONFIG_INVALID')).toBe(true);
    }
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ SLACK_BOT_TOKEN: '' }).SLACK_BOT_TOKEN).toBeUndefined();
  });
});
