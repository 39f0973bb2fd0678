/**
 * Every code a client can see in `errors[].extensions.code`. Clients switch on these, so a code
 * is never renamed; add new ones instead.
 */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  BAD_REQUEST = 'BAD_REQUEST',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  TENANT_NOT_FOUND = 'TENANT_NOT_FOUND',
  TENANT_MISMATCH = 'TENANT_MISMATCH',
  TENANT_SUSPENDED = 'TENANT_SUSPENDED',
  TENANT_MAINTENANCE = 'TENANT_MAINTENANCE',
  TENANT_CONTEXT_REQUIRED = 'TENANT_CONTEXT_REQUIRED',
  CONFLICT = 'CONFLICT',
  /** A write into a year whose cluster schema does not exist yet; `generateClusterSchemas` makes it. */
  CLUSTER_NOT_READY = 'CLUSTER_NOT_READY',
  /** The tenant's subscription ended (or its trial did): reads are served, writes are refused until changePlan. */
  SUBSCRIPTION_EXPIRED = 'SUBSCRIPTION_EXPIRED',
  /** A plan limit is reached (`extensions.limit`, e.g. maxPatients, with `max` and `actual`). */
  QUOTA_EXCEEDED = 'QUOTA_EXCEEDED',
  /** Too many requests or attempts (rate limits, failed sign-ins): wait `Retry-After` seconds. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** The password was right; a second factor is needed (`extensions.challenge` → verifyTwoFactor). */
  TWO_FACTOR_REQUIRED = 'TWO_FACTOR_REQUIRED',
  /** acceptInvitation: no invitation has this token (mistyped, forged, or from another server). */
  INVITATION_INVALID = 'INVITATION_INVALID',
  /** acceptInvitation: the invitation ran out (INVITATION_TTL_HOURS); an admin sends a new one with resendInvitation. */
  INVITATION_EXPIRED = 'INVITATION_EXPIRED',
  /** acceptInvitation: the invitation was accepted already; sign in with the password chosen then. */
  INVITATION_USED = 'INVITATION_USED',
  /** acceptInvitation: the invitation was replaced (resendInvitation), the membership removed, or the account has a password now. */
  INVITATION_REVOKED = 'INVITATION_REVOKED',
  DATABASE_BUSY = 'DATABASE_BUSY',
  DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  TIMEOUT = 'TIMEOUT',
  SHUTTING_DOWN = 'SHUTTING_DOWN',
}

/** The HTTP status each code answers with when it is the request's only error. */
export const httpStatusOf: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.BAD_USER_INPUT]: 400,
  [ErrorCode.BAD_REQUEST]: 400,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.TENANT_NOT_FOUND]: 404,
  [ErrorCode.TENANT_MISMATCH]: 403,
  [ErrorCode.TENANT_SUSPENDED]: 403,
  [ErrorCode.TENANT_MAINTENANCE]: 503,
  [ErrorCode.TENANT_CONTEXT_REQUIRED]: 400,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.CLUSTER_NOT_READY]: 409,
  // 402 Payment Required: the one status that says "pay to continue"; distinct from FORBIDDEN (403).
  [ErrorCode.SUBSCRIPTION_EXPIRED]: 402,
  [ErrorCode.QUOTA_EXCEEDED]: 403,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.TWO_FACTOR_REQUIRED]: 401,
  [ErrorCode.INVITATION_INVALID]: 401,
  // 410 Gone: the token was real, and is no more; asking again will not help.
  [ErrorCode.INVITATION_EXPIRED]: 410,
  [ErrorCode.INVITATION_USED]: 410,
  [ErrorCode.INVITATION_REVOKED]: 410,
  [ErrorCode.DATABASE_BUSY]: 503,
  [ErrorCode.DATABASE_UNAVAILABLE]: 503,
  [ErrorCode.SERVICE_UNAVAILABLE]: 503,
  [ErrorCode.INTERNAL_SERVER_ERROR]: 500,
  [ErrorCode.QUERY_TOO_COMPLEX]: 400,
  [ErrorCode.TIMEOUT]: 503,
  [ErrorCode.SHUTTING_DOWN]: 503,
};

/**
 * Carried in the message of the error a query gets when the connection budget had no slot in
 * time. Prisma wraps that error but keeps its message, so formatError recognises it by this.
 */
export const DATABASE_BUSY_MARKER = 'tenantgraph:DATABASE_BUSY';

/** Seconds a client is told to wait (`Retry-After`) when PostgreSQL cannot be reached. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;
