/**
 * Redis Cluster settings: REDIS_CLUSTER_NODES read into seed nodes, TLS and
 * credentials, and the key prefix a cluster needs.
 *
 * On a cluster every key of one Lua script, MULTI or BullMQ queue must hash to
 * the same slot. Airlock's scripts tie a query record to the pending index, an
 * audit event to the global hash chain, a submit's record to its events and
 * job — so every key of an install carries one hash tag, the prefix in braces
 * (`{airlock}:q:…`, `{airlock}:audit…`, `{airlock}:exec:ready`, `{airlock}:bull:slack:…`), and one
 * install lives in one slot. Several installs (prefixes) spread over the
 * cluster's shards.
 */

/** One seed node. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** What REDIS_CLUSTER_NODES says. */
export interface ClusterSettings {
  nodes: ClusterNode[];
  /** `rediss://`: TLS to every node (managed clusters with in-transit encryption). */
  tls: boolean;
  username?: string;
  password?: string;
}

/**
 * Parse `host:port[,host:port…]`, where an entry may also be a URL
 * (`redis://` or `rediss://`, with `user:password@`). The first URL's scheme
 * and credentials apply to every node: a cluster's nodes share them. Returns
 * a sentence for people when the text is not that.
 */
export function parseClusterNodes(text: string): ClusterSettings | { error: string } {
  const entries = text.split(',').map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) return { error: 'name at least one node as host:port' };
  const nodes: ClusterNode[] = [];
  let auth: Omit<ClusterSettings, 'nodes'> | undefined;
  for (const entry of entries) {
    const withScheme = /^[a-z]+:\/\//i.test(entry) ? entry : `redis://${entry}`;
    const url = URL.parse(withScheme);
    if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) return { error: `"${entry}" is not host:port or a redis:// or rediss:// URL` };
    const port = Number(url.port || 6379);
    if (!url.hostname || !Number.isInteger(port) || port < 1 || port > 65535) return { error: `"${entry}" has no usable host and port` };
    nodes.push({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port });
    if (!auth && withScheme === entry) {
      auth = {
        tls: url.protocol === 'rediss:',
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      };
    }
  }
  return { nodes, ...(auth ?? { tls: false }) };
}

/**
 * The prefix as a cluster needs it: wrapped in braces unless it already holds
 * a hash tag (`airlock` → `{airlock}`; `{airlock}` and `{team}:airlock` stay).
 */
export function clusterPrefix(prefix: string): string {
  // Redis hashes what lies between the first `{` and the first `}` after it, when that is not empty.
  const open = prefix.indexOf('{');
  const close = open >= 0 ? prefix.indexOf('}', open + 1) : -1;
  return close > open + 1 ? prefix : `{${prefix}}`;
}
