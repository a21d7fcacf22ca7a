// One place that turns any API failure into words a patient or clinic user can act on.
// Every `extensions.code` of the contract (docs/API.md "Errors") has a message here.
import type { CombinedError } from 'urql';

import { formatDateTime, formatDuration } from './time';

/** An API failure outside urql (sign-in, refresh): the code and extensions of its first error. */
export class ApiError extends Error {
  readonly code: string;
  readonly extensions: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    extensions: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
    this.extensions = extensions;
  }
}

export interface ErrorDetail {
  /** The contract's code, or NETWORK_ERROR when the server could not be reached. */
  code: string;
  /** The server's own message (already safe: unexpected errors are masked server-side). */
  message: string;
  extensions: Record<string, unknown>;
  /** The input field a BAD_USER_INPUT / CONFLICT names, when it names one. */
  field?: string;
}

interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown>;
}

function isCombinedError(error: unknown): error is CombinedError {
  return (
    typeof error === 'object' && error !== null && 'graphQLErrors' in error && 'networkError' in error
  );
}

function fromGraphQLError(error: GraphQLErrorLike): ErrorDetail {
  const extensions = error.extensions ?? {};
  const field = typeof extensions.field === 'string' ? extensions.field : undefined;
  return {
    code: String(extensions.code ?? 'INTERNAL_SERVER_ERROR'),
    message: error.message,
    extensions,
    field,
  };
}

/** The first error's code, message, extensions and field, from whatever shape it came in. */
export function errorDetail(error: unknown): ErrorDetail | null {
  if (error == null) return null;
  if (error instanceof ApiError) {
    return fromGraphQLError({ message: error.message, extensions: { ...error.extensions, code: error.code } });
  }
  if (isCombinedError(error)) {
    const first = error.graphQLErrors[0];
    if (first) return fromGraphQLError(first as GraphQLErrorLike);
    return { code: 'NETWORK_ERROR', message: error.networkError?.message ?? error.message, extensions: {} };
  }
  if (Array.isArray(error) && error[0] && typeof error[0].message === 'string') {
    return fromGraphQLError(error[0] as GraphQLErrorLike); // graphql-ws sink errors
  }
  if (typeof error === 'object' && 'code' in error && 'reason' in error) {
    const close = error as { code: number; reason: string }; // a WebSocket CloseEvent
    return { code: 'NETWORK_ERROR', message: close.reason || `Connection closed (${close.code})`, extensions: {} };
  }
  if (error instanceof Error) return { code: 'NETWORK_ERROR', message: error.message, extensions: {} };
  return { code: 'INTERNAL_SERVER_ERROR', message: String(error), extensions: {} };
}

export function errorCode(error: unknown): string | undefined {
  return errorDetail(error)?.code;
}

/** Whether the failure is "sign in again / refresh": the auth exchange retries these. */
export function isAuthError(error: CombinedError): boolean {
  return error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
}

/**
 * Whether retrying the same intent (with the same idempotency key) may succeed: the server
 * was not reached, was briefly unavailable, or failed unexpectedly. Domain refusals are final.
 */
export function isRetryable(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'NETWORK_ERROR' || code === 'SERVICE_UNAVAILABLE' || code === 'INTERNAL_SERVER_ERROR';
}

export interface DescribeOptions {
  /** IANA zone to state times in (the doctor's); the browser's zone when omitted. */
  timeZone?: string;
}

function when(value: unknown, options: DescribeOptions): string | null {
  if (typeof value !== 'string') return null;
  return formatDateTime(value, options.timeZone);
}

function seconds(value: unknown): number | null {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** "input.licenseNumber" -> "License number". */
function humanField(field: string): string {
  const words = field.replace(/^input\./, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * A sentence for the user, for every contract error code, with the details the server sent
 * (until when a slot is held, when to retry, the booking window...).
 */
export function describeError(error: unknown, options: DescribeOptions = {}): string {
  const detail = errorDetail(error);
  if (!detail) return '';
  const ext = detail.extensions;
  switch (detail.code) {
    case 'NETWORK_ERROR':
      return 'Cannot reach the server. Check your connection and try again.';
    case 'UNAUTHENTICATED':
      return 'Your session has ended. Please sign in again.';
    case 'FORBIDDEN':
      return 'You are not allowed to do that.';
    case 'NOT_FOUND':
      return `${detail.message}. It may have been removed; refresh to see the current state.`;
    case 'BAD_USER_INPUT':
      return detail.field ? `${humanField(detail.field)}: ${detail.message}` : detail.message;
    case 'CONFLICT':
      return detail.field ? `${humanField(detail.field)}: ${detail.message}` : detail.message;
    case 'SLOT_UNAVAILABLE':
      return 'This time is no longer available (removed, disabled or already past). Please pick another.';
    case 'SLOT_LOCKED': {
      const until = when(ext.expiresAt, options);
      return until
        ? `Another patient is holding this time until ${until}. Pick another, or try again after that.`
        : 'Another patient is holding this time. Pick another, or try again in a few minutes.';
    }
    case 'SLOT_ALREADY_BOOKED':
      return 'This time has just been booked by someone else. Please pick another.';
    case 'LOCK_LIMIT_REACHED': {
      const limit = seconds(ext.limit);
      return `You are already holding ${limit ?? 'the maximum number of'} time${limit === 1 ? '' : 's'}. Book or release one first.`;
    }
    case 'INVALID_TRANSITION': {
      const current = typeof ext.currentStatus === 'string' ? ext.currentStatus : null;
      const requested = typeof ext.requestedStatus === 'string' ? ext.requestedStatus : null;
      const earliest = when(ext.earliest, options);
      const latest = when(ext.latest, options);
      const asked = requested?.toLowerCase().replace('_', ' ');
      // Time is the reason: say from (or until) when it becomes possible.
      if (earliest && asked) return `Too early to mark it ${asked}: possible from ${earliest}.`;
      if (latest && asked) return `Too late to change it to ${asked}: that was possible until ${latest}.`;
      return current && requested
        ? `This appointment is ${current.toLowerCase().replace('_', ' ')}; it cannot become ${asked}.`
        : 'That status change is not allowed any more; refresh to see the current status.';
    }
    case 'OUTSIDE_BOOKING_WINDOW': {
      const earliest = when(ext.earliest, options);
      const latest = when(ext.latest, options);
      return earliest && latest
        ? `This doctor takes bookings from ${earliest} to ${latest}. Please pick a time in that window.`
        : "This time is outside the doctor's booking window.";
    }
    case 'TOO_LATE_TO_CANCEL': {
      const cutoff = when(ext.cutoff, options);
      return cutoff
        ? `Changes were possible until ${cutoff}. Please contact the clinic.`
        : 'It is too late to change this appointment. Please contact the clinic.';
    }
    case 'RATE_LIMITED': {
      const wait = seconds(ext.retryAfter);
      return wait != null
        ? `Too many requests. Please try again in ${formatDuration(wait)}.`
        : 'Too many requests. Please wait a moment and try again.';
    }
    case 'SERVICE_UNAVAILABLE': {
      const wait = seconds(ext.retryAfter);
      return wait != null
        ? `The service is briefly unavailable. Please try again in ${formatDuration(wait)}.`
        : 'The service is briefly unavailable. Please try again shortly.';
    }
    case 'SUBSCRIBER_TOO_SLOW':
      return 'Live updates fell behind and were restarted; the view has been refreshed.';
    case 'INTERNAL_SERVER_ERROR':
      return 'Something went wrong on the server. Please try again.';
    default:
      return detail.message;
  }
}
