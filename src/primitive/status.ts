/**
 * Response status codes (TS-0004 6.6.3) as named constants. The table with their HTTP and CoAP mappings
 * lives in specs/status-codes.json; bindings map through it once (see mapping.ts). A test keeps the
 * constants, the table and docs in step.
 */
export const RSC = {
  ACCEPTED: 1000,
  ACCEPTED_FOR_NON_BLOCKING_REQUEST_SYNCH: 1001,
  ACCEPTED_FOR_NON_BLOCKING_REQUEST_ASYNCH: 1002,
  OK: 2000,
  CREATED: 2001,
  DELETED: 2002,
  UPDATED: 2004,
  BAD_REQUEST: 4000,
  RELEASE_VERSION_NOT_SUPPORTED: 4001,
  NOT_FOUND: 4004,
  OPERATION_NOT_ALLOWED: 4005,
  REQUEST_TIMEOUT: 4008,
  UNSUPPORTED_MEDIA_TYPE: 4015,
  SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE: 4101,
  CONTENTS_UNACCEPTABLE: 4102,
  ORIGINATOR_HAS_NO_PRIVILEGE: 4103,
  CONFLICT: 4105,
  ORIGINATOR_NOT_AUTHENTICATED: 4106,
  SECURITY_ASSOCIATION_REQUIRED: 4107,
  INVALID_CHILD_RESOURCE_TYPE: 4108,
  ORIGINATOR_HAS_ALREADY_REGISTERED: 4117,
  APP_RULE_VALIDATION_FAILED: 4126,
  INTERNAL_SERVER_ERROR: 5000,
  NOT_IMPLEMENTED: 5001,
  TARGET_NOT_REACHABLE: 5103,
  TARGET_NOT_SUBSCRIBABLE: 5203,
  SUBSCRIPTION_VERIFICATION_INITIATION_FAILED: 5204,
  SUBSCRIPTION_HOST_HAS_NO_PRIVILEGE: 5205,
  NOT_ACCEPTABLE: 5207,
  UNABLE_TO_RECALL_REQUEST: 5220,
} as const;
export type RSC = (typeof RSC)[keyof typeof RSC];

/**
 * An error as a value: a response status code and a readable message (returned as m2m:dbg).
 * Thrown inside the pipeline, turned into a ResponsePrimitive by the dispatcher, mapped once per binding.
 */
export class CseError extends Error {
  constructor(
    readonly rsc: number,
    message: string,
  ) {
    super(message);
    this.name = 'CseError';
  }
}

export const badRequest = (m: string) => new CseError(RSC.BAD_REQUEST, m);
export const notFound = (m: string) => new CseError(RSC.NOT_FOUND, m);
export const notAllowed = (m: string) => new CseError(RSC.OPERATION_NOT_ALLOWED, m);

export const isSuccess = (rsc: number) => rsc >= 2000 && rsc < 3000;

/**
 * The response primitive of an error, the same on every binding: a CseError's rsc and message (m2m:dbg); any
 * other error is 5000 with a generic message (what went wrong is logged, not told).
 */
export function errorResponse(
  e: unknown,
  rqi: string | undefined,
): { rsc: number; rqi: string; pc: { 'm2m:dbg': string } } {
  const err = e instanceof CseError ? e : new CseError(RSC.INTERNAL_SERVER_ERROR, 'internal server error');
  return { rsc: err.rsc, rqi: rqi ?? '', pc: { 'm2m:dbg': err.message } };
}
