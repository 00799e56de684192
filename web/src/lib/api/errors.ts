/** Errors of the API as readable `Error`s: what the server said, or what went wrong on the way. */

/** The body every `/api` and `/v1` error has: `{error: {message, type, param, code}}`. */
export type ErrorEnvelope = {
  error: { message: string; type: string; param: string | null; code: string | null };
};

export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    message: string,
    /** The HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    readonly type: string | null = null,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export function isErrorEnvelope(body: unknown): body is ErrorEnvelope {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error = (body as { error: unknown }).error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

const STATUS_MESSAGES: Record<number, string> = {
  401: "Your session has ended. Sign in again.",
  403: "You are not allowed to do this.",
  404: "Not found.",
  413: "The request is too large.",
  429: "Too many requests. Wait a moment and try again.",
  502: "The server is not reachable right now. Try again in a moment.",
  503: "The service is unavailable right now. Try again in a moment.",
  504: "The server took too long to answer. Try again in a moment.",
};

/** The error for a failed response, given its body (parsed JSON, text, or nothing). */
export function apiErrorFrom(status: number, body: unknown): ApiError {
  if (isErrorEnvelope(body)) {
    const { message, type, code, param } = body.error;
    return new ApiError(message, status, type, code, param);
  }
  const known = STATUS_MESSAGES[status];
  if (known) return new ApiError(known, status);
  if (status >= 500) {
    return new ApiError(`The server failed to answer (HTTP ${status}). Try again later.`, status);
  }
  return new ApiError(`The request failed (HTTP ${status}).`, status);
}

/** The error for a request that got no response at all. */
export function networkError(cause: unknown): ApiError {
  const error = new ApiError(
    "Cannot reach the IAS server. Check your connection and try again.",
    0,
  );
  (error as { cause?: unknown }).cause = cause;
  return error;
}

/** A message fit to show a person, whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  return "Something went wrong.";
}
