/** One idempotency key per user intent ("lock this slot", "book this hold"): kept while the
 * outcome is unknown (a network failure), so retrying the same intent reuses it; dropped once
 * the server has answered, so the next intent gets a fresh one. */
import { useMemo } from "react";
import type { CombinedError } from "urql";

export interface IntentKeys {
  key: (intent: string) => string;
  settle: (intent: string, error?: CombinedError) => void;
}

export function useIntentKeys(): IntentKeys {
  return useMemo(() => {
    const keys = new Map<string, string>();
    return {
      key(intent) {
        let key = keys.get(intent);
        if (!key) {
          key = crypto.randomUUID();
          keys.set(intent, key);
        }
        return key;
      },
      settle(intent, error) {
        if (!error?.networkError) keys.delete(intent);
      },
    };
  }, []);
}
