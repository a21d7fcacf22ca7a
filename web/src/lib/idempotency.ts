// One idempotency key per user intent ("lock slot X", "book slot X", "cancel appointment Y"),
// reused when the same intent is retried after a network failure, so the server applies it once
// (docs/API.md: a key already used returns the first result). A new intent gets a new key.
import { isRetryable } from './errors';

const keys = new Map<string, string>();

/** A random key; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The key for an intent, e.g. intentKey(`book:${slotId}`): the same key until the intent is
 * settled, so pressing "Retry" after a timeout cannot book twice.
 */
export function intentKey(intent: string): string {
  let key = keys.get(intent);
  if (!key) {
    key = newIdempotencyKey();
    keys.set(intent, key);
  }
  return key;
}

/** Forget the intent's key: the next attempt is a new intent. */
export function finishIntent(intent: string): void {
  keys.delete(intent);
}

/**
 * Call with the outcome of an attempt: a success or a final refusal settles the intent; a
 * retryable failure (network, SERVICE_UNAVAILABLE) keeps its key for the retry.
 */
export function settleIntent(intent: string, error: unknown): void {
  if (!error || !isRetryable(error)) finishIntent(intent);
}
