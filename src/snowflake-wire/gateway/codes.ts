/**
 * The Snowflake error codes the gateway answers with, one per Airlock outcome,
 * so a driver's caller can switch on `err.code` and read Airlock's stable code
 * in the message (`Airlock POLICY_DENIED [EXFILTRATION]: …`). The 4710xx range
 * is Airlock's own (Snowflake uses none of it); cancellation keeps Snowflake's
 * `000604`, which tools already read as "cancelled". docs/snowflake-wire.md
 * lists every code.
 */
import type { QueryErrorCode } from '../../errors.ts';
import { SnowflakeWireError } from '../errors.ts';

/** Wire code and SQLSTATE of each kind of refusal. */
export const GATEWAY_CODES = {
  denied: { code: '471001', sqlState: '42501' },
  rejected: { code: '471002', sqlState: '42501' },
  expired: { code: '471003', sqlState: '42501' },
  sqlRefused: { code: '471004', sqlState: '42000' },
  unsupported: { code: '471005', sqlState: '0A000' },
  failed: { code: '471006', sqlState: '42000' },
  outcomeUnknown: { code: '471007', sqlState: '40003' },
  unavailable: { code: '471008', sqlState: '08001' },
  resultExpired: { code: '471009', sqlState: '02000' },
  rateLimited: { code: '471010', sqlState: '53400' },
  cancelled: { code: '000604', sqlState: '57014' },
} as const;

/** The kind of refusal an Airlock code is. */
export type GatewayRefusal = keyof typeof GATEWAY_CODES;

const KIND_OF: Partial<Record<QueryErrorCode, GatewayRefusal>> = {
  POLICY_DENIED: 'denied',
  FORBIDDEN: 'denied',
  APPROVAL_REJECTED: 'rejected',
  APPROVAL_EXPIRED: 'expired',
  SQL_INVALID: 'sqlRefused',
  SQL_TOO_LARGE: 'sqlRefused',
  SQL_TOO_COMPLEX: 'sqlRefused',
  SQL_UNPARSEABLE: 'sqlRefused',
  NOT_SQL: 'sqlRefused',
  BAD_REQUEST: 'sqlRefused',
  VALIDATION_FAILED: 'sqlRefused',
  IDEMPOTENCY_CONFLICT: 'sqlRefused',
  CANCELLED: 'cancelled',
  WAREHOUSE_CANCELLED: 'cancelled',
  OUTCOME_UNKNOWN: 'outcomeUnknown',
  QUEUE_UNAVAILABLE: 'unavailable',
  STORE_UNAVAILABLE: 'unavailable',
  AUDIT_UNAVAILABLE: 'unavailable',
  WAREHOUSE_UNAVAILABLE: 'unavailable',
  AUTH_ISSUER_UNAVAILABLE: 'unavailable',
  RESULT_EXPIRED: 'resultExpired',
  RATE_LIMITED: 'rateLimited',
};

/** A refusal of the gateway's own (not one an Airlock code names). */
export function gatewayError(kind: GatewayRefusal, airlockCode: string, message: string): SnowflakeWireError {
  const { code, sqlState } = GATEWAY_CODES[kind];
  return new SnowflakeWireError(code, sqlState, `Airlock ${airlockCode}: ${message}`);
}

/**
 * An Airlock outcome as the driver raises it: the wire code of its kind, and
 * Airlock's code (with the policy's reason codes, when given) in the message.
 * Codes with no kind of their own (warehouse errors, INTERNAL) are `failed`.
 */
export function wireErrorFor(code: QueryErrorCode, message: string, reasonCodes: readonly string[] = []): SnowflakeWireError {
  const reasons = reasonCodes.length > 0 ? ` [${[...new Set(reasonCodes)].join(', ')}]` : '';
  const { code: wire, sqlState } = GATEWAY_CODES[KIND_OF[code] ?? 'failed'];
  return new SnowflakeWireError(wire, sqlState, `Airlock ${code}${reasons}: ${message}`);
}
