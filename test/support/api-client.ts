/**
 * The one HTTP client the end-to-end suites use to talk to Airlock's API: it
 * adds the bearer token, sends JSON, and hands back the status, the body (as
 * text and parsed) and the headers, so a test asserts on what came back and
 * nothing else.
 */

/** One request: JSON `body` or `raw` bytes; `token: null` sends none, a string sends that one instead of the client's. */
export interface ApiRequest {
  /** Default: POST when there is a body, GET otherwise. */
  method?: string;
  /** Sent as JSON (`content-type: application/json` unless `headers` say otherwise). */
  body?: unknown;
  /** Sent as it is, for bodies JSON cannot express (malformed, not UTF-8, another media type). */
  raw?: string | Uint8Array;
  token?: string | null;
  headers?: Record<string, string>;
}

/** What came back. */
export interface ApiResponse {
  status: number;
  /** The body parsed as JSON, or its text when it is not JSON (`/metrics`). */
  json: any; // the API's JSON, checked field by field in the tests
  text: string;
  headers: Headers;
}

/** Send one request to a path of the API (`/v1/queries`, `/healthz`, …). */
export type ApiClient = (path: string, request?: ApiRequest) => Promise<ApiResponse>;

/**
 * A client for the API at `baseUrl`, as the agent holding `token` (none:
 * anonymous unless a request names one). `headers` go on every request.
 */
export function apiClient(baseUrl: string, token?: string, headers: Record<string, string> = {}): ApiClient {
  return async (path, request = {}) => {
    const sent: Record<string, string> = { ...headers, ...request.headers };
    const bearer = request.token === undefined ? token : request.token;
    if (bearer) sent.authorization = `Bearer ${bearer}`;
    const body = request.raw ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
    if (body !== undefined) sent['content-type'] ??= 'application/json';
    const res = await fetch(`${baseUrl}${path}`, { method: request.method ?? (body === undefined ? 'GET' : 'POST'), headers: sent, body });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
}
