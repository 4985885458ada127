/**
 * The query store's two Lua scripts (compare-and-set, create) and the typed
 * commands ioredis defines for them. Every key a script touches comes from
 * queries/keys.ts and shares the install's hash tag on Redis Cluster.
 */

/**
 * A record is a hash: `base` (the JSON of fields fixed at creation) plus one
 * field per mutable part (`status`, `updatedAt`, `execution`, `error`,
 * `approval`), each JSON. Re-encoding JSON inside Lua would turn empty arrays
 * into objects, so Lua only compares the status (and one raw field: `approval`
 * for read-decide-write, `execution` for a first start) and writes whole fields.
 *
 * The same step keeps the execute lane's sets (`queue/execute-lane.ts`): a
 * record that leaves `running` loses its lease, a finished one its delayed
 * entry; a start or take-over with a lease gets one (and leaves the intake
 * index and the delayed set: a worker has it); a transient failure is
 * scheduled in the delayed set. Times come from Redis (`TIME`), so replicas'
 * clocks never disagree about a lease.
 *
 * KEYS[1] record, KEYS[2] pending index, KEYS[3] leases, KEYS[4] intake index,
 * KEYS[5] delayed set; ARGV[1] JSON list of allowed current statuses, ARGV[2]
 * the name of a field whose raw value must also equal ARGV[3] ('' = no such
 * check; ARGV[3] '' = absent), ARGV[4] channel, ARGV[5] id, ARGV[6] TTL to set
 * ('0' = keep; set exactly when the new status is terminal, which is then
 * also published on ARGV[4] .. ':finished', the channel long-polls wait on),
 * ARGV[7] the new status ('' = unchanged), ARGV[8] lease length in ms ('' =
 * none), ARGV[9] run again after this many ms ('' = no), ARGV[10] '1' = only
 * when the query holds no lease (a take-over of a dead worker's query),
 * ARGV[11..] field/value pairs.
 * Returns {1, HGETALL} written, {0, ''} missing, {-1, current status} on conflict.
 */
export const CAS_LUA = `
local cur = redis.call('HMGET', KEYS[1], 'status', ARGV[2] ~= '' and ARGV[2] or 'status')
if not cur[1] then return {0, ''} end
local status = cjson.decode(cur[1])
local ok = false
for _, s in ipairs(cjson.decode(ARGV[1])) do if status == s then ok = true end end
if ARGV[2] ~= '' and (cur[2] or '') ~= ARGV[3] then ok = false end
if ARGV[10] == '1' and redis.call('ZSCORE', KEYS[3], ARGV[5]) then ok = false end
if not ok then return {-1, status} end
for i = 11, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[6] ~= '0' then redis.call('EXPIRE', KEYS[1], ARGV[6]) end
if status == 'pending_approval' and ARGV[7] ~= '' and ARGV[7] ~= status then redis.call('ZREM', KEYS[2], ARGV[5]) end
if ARGV[8] ~= '' or ARGV[9] ~= '' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if ARGV[8] ~= '' then
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[8]), ARGV[5])
    redis.call('ZREM', KEYS[4], ARGV[5])
    redis.call('ZREM', KEYS[5], ARGV[5])
  end
  if ARGV[9] ~= '' then redis.call('ZADD', KEYS[5], now + tonumber(ARGV[9]), ARGV[5]) end
end
if ARGV[7] ~= '' and ARGV[7] ~= 'running' then redis.call('ZREM', KEYS[3], ARGV[5]) end
if ARGV[6] ~= '0' then redis.call('ZREM', KEYS[5], ARGV[5]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
if ARGV[6] ~= '0' then redis.call('PUBLISH', ARGV[4] .. ':finished', ARGV[5]) end
return {1, redis.call('HGETALL', KEYS[1])}
`;

/**
 * Create only if absent, in one round trip, and claim the idempotency key in
 * the same step: a key never points at a record that does not exist (a failed
 * create leaves no claim behind; a racing replay sees the record). A pending
 * review joins the pending index in the same step, and an accepted query
 * (queued or pending) the intake index, until its first steps are confirmed.
 * The same create sent twice (a client resending after a dropped connection)
 * finds its own record and answers "created" again.
 * With a required key, nothing is written unless that key exists: the
 * session log's key of the query, so a record is never created without its
 * `received` event even when the create is sent right behind the append.
 * KEYS[1] record, KEYS[2] idempotency key (KEYS[1] = none), KEYS[3] pending index,
 * KEYS[4] intake index, KEYS[5] required key (KEYS[1] = none); ARGV[1] ttl,
 * ARGV[2] id, ARGV[3] idempotency TTL, ARGV[4] pending score ('' = not
 * pending), ARGV[5] intake score ('' = none), ARGV[6..] field/value pairs.
 * Returns {1, ''} created, {0, ''} id taken, {-1, existingId} key already
 * claimed, {-2, ''} the required key is missing.
 */
export const CREATE_LUA = `
if KEYS[5] ~= KEYS[1] and redis.call('EXISTS', KEYS[5]) == 0 then return {-2, ''} end
local base
for i = 6, #ARGV, 2 do if ARGV[i] == 'base' then base = ARGV[i + 1] end end
if KEYS[2] ~= KEYS[1] then
  local existing = redis.call('GET', KEYS[2])
  if existing == ARGV[2] and redis.call('HGET', KEYS[1], 'base') == base then return {1, ''} end
  if existing then return {-1, existing} end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'base') == base then return {1, ''} end
  return {0, ''}
end
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if KEYS[2] ~= KEYS[1] then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2]) end
if ARGV[5] ~= '' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[2]) end
return {1, ''}
`;

/** The compare-and-set command's arguments, in the order the script reads them. */
export type CasArgs = [
  key: string,
  pending: string,
  leases: string,
  intake: string,
  delayed: string,
  from: string,
  rawField: string,
  rawValue: string,
  channel: string,
  id: string,
  ttl: number,
  to: string,
  leaseMs: string,
  retryAfterMs: string,
  requireNoLease: string,
  ...fields: string[],
];

/** The commands `QueryStore` defines on its Redis connection. */
export type Scripts = {
  airlockCas(...args: CasArgs): Promise<[number, string | string[]]>;
  airlockCreate(key: string, idemKey: string, pending: string, intake: string, required: string, ttl: number, id: string, idemTtl: number, score: string, intakeScore: string, ...fields: string[]): Promise<[number, string]>;
};
