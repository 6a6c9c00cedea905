/**
 * PostHog's error envelope (drf-exceptions-hog): `{"type","code","detail","attr"}`, and the
 * exact messages the sandbox reproduces.
 */

export interface ErrorEnvelope {
  type: string;
  code: string;
  detail: string;
  attr: string | null;
}

/** A response decided before (or instead of) the normal handler: thrown, caught by the router. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** JSON body; `null` means an empty body (e.g. DELETE's 405). */
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === "object" && body && "detail" in body ? String(body.detail) : `HTTP ${status}`);
  }
}

export function envelope(
  type: string,
  code: string,
  detail: string,
  attr: string | null = null,
): ErrorEnvelope {
  return { type, code, detail, attr };
}

export const errors = {
  notAuthenticated: () =>
    new ApiError(
      401,
      envelope("authentication_error", "not_authenticated", "Authentication credentials were not provided."),
      { "WWW-Authenticate": "Bearer" },
    ),
  invalidKey: () =>
    new ApiError(
      401,
      envelope(
        "authentication_error",
        "authentication_failed",
        "Personal API key found in request Authorization header is invalid.",
      ),
      { "WWW-Authenticate": "Bearer" },
    ),
  permissionDenied: (detail: string) =>
    new ApiError(403, envelope("authentication_error", "permission_denied", detail)),
  notFound: (detail = "Not found.") => new ApiError(404, envelope("invalid_request", "not_found", detail)),
  endpointNotFound: () => new ApiError(404, envelope("invalid_request", "not_found", "Endpoint not found.")),
  projectNotFound: () => new ApiError(404, envelope("invalid_request", "not_found", "Project not found.")),
  methodNotAllowed: (method: string) =>
    new ApiError(405, envelope("invalid_request", "method_not_allowed", `Method "${method}" not allowed.`)),
  validation: (code: string, detail: string, attr: string | null = null) =>
    new ApiError(400, envelope("validation_error", code, detail, attr)),
  parseError: (detail: string) => new ApiError(400, envelope("invalid_request", "parse_error", detail)),
  unsupportedMediaType: (mediaType: string) =>
    new ApiError(
      415,
      envelope(
        "invalid_request",
        "unsupported_media_type",
        `Unsupported media type "${mediaType}" in request.`,
      ),
    ),
  conflict: (detail: string) => new ApiError(409, envelope("server_error", "conflict", detail)),
  throttled: (waitSeconds: number) => new ApiError(429, throttledEnvelope(waitSeconds)),
  /** What drf-exceptions-hog answers for an unhandled (non-API) exception. */
  serverError: () => new ApiError(500, envelope("server_error", "error", "A server error occurred.")),
};

/** DRF's `Throttled` detail, including its singular/plural wording. */
export function throttledEnvelope(waitSeconds: number): ErrorEnvelope {
  const unit = waitSeconds === 1 ? "second" : "seconds";
  return envelope(
    "throttled_error",
    "throttled",
    `Request was throttled. Expected available in ${waitSeconds} ${unit}.`,
  );
}
