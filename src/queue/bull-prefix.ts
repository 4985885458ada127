/** Where BullMQ keeps its keys: under `{prefix}:bull`, beside Airlock's own keys (one hash tag on Redis Cluster). */
export function bullPrefix(prefix: string): string {
  return `${prefix}:bull`;
}
