/**
 * Session parameters as the wire carries them: the output formats the driver
 * reads from every result, and the `[{name, value}]` form of a response.
 */

/** A session parameter value as Snowflake returns it in `parameters`. */
export type ParamValue = string | number | boolean;

/** Parameters every session starts with; the driver reads the formats from each result. */
export const DEFAULT_PARAMETERS: Readonly<Record<string, ParamValue>> = {
  TIMEZONE: 'UTC',
  TIMESTAMP_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM',
  TIMESTAMP_NTZ_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3',
  TIMESTAMP_LTZ_OUTPUT_FORMAT: '',
  TIMESTAMP_TZ_OUTPUT_FORMAT: '',
  DATE_OUTPUT_FORMAT: 'YYYY-MM-DD',
  TIME_OUTPUT_FORMAT: 'HH24:MI:SS',
  BINARY_OUTPUT_FORMAT: 'HEX',
  CLIENT_TIMESTAMP_TYPE_MAPPING: 'TIMESTAMP_LTZ',
  TIMESTAMP_TYPE_MAPPING: 'TIMESTAMP_NTZ',
  CLIENT_RESULT_PREFETCH_THREADS: 1,
  CLIENT_SESSION_KEEP_ALIVE: false,
  CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY: 3600,
  QUERY_CONTEXT_CACHE_SIZE: 5,
  JS_TREAT_INTEGER_AS_BIGINT: false,
  STATEMENT_TIMEOUT_IN_SECONDS: 0,
  QUERY_TAG: '',
  AUTOCOMMIT: true,
};

/** The `parameters` array of a response. */
export function parametersArray(params: Readonly<Record<string, ParamValue>>): { name: string; value: ParamValue }[] {
  return Object.entries(params).map(([name, value]) => ({ name, value }));
}
