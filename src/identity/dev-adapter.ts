import { DEV_SCOPES, isValidAgentId } from './dev-token-params.ts';

interface StoredEntry {
  payload: Record<string, unknown>;
  expiresAt: number;
}

/**
 * oidc-provider storage adapter. Clients are synthesized per agent id (that is
 * what makes "one client per agent" need no registration); everything else is
 * kept in memory, which is enough since JWT access tokens are not stored.
 */
export function devAdapter(clientSecret: string) {
  const store = new Map<string, StoredEntry>();
  const get = (key: string) => {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry?.payload;
  };
  return (model: string) => ({
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      if (store.size > 10_000) store.delete(store.keys().next().value as string);
      store.set(`${model}:${id}`, {
        payload,
        expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY,
      });
    },
    async find(id: string): Promise<Record<string, unknown> | undefined> {
      if (model === 'Client') {
        if (!isValidAgentId(id)) return undefined;
        return {
          client_id: id,
          client_secret: clientSecret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
          scope: DEV_SCOPES.join(' '),
        };
      }
      return get(`${model}:${id}`);
    },
    async findByUid(): Promise<undefined> {
      return undefined;
    },
    async findByUserCode(): Promise<undefined> {
      return undefined;
    },
    async consume(id: string): Promise<void> {
      const payload = get(`${model}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    },
    async destroy(id: string): Promise<void> {
      store.delete(`${model}:${id}`);
    },
    async revokeByGrantId(): Promise<void> {},
  });
}
