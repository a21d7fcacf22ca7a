// Subscriptions as event streams for views that keep their own state.
//
// urql's useSubscription folds events into one value per render, so two events arriving
// between renders could be seen as one; a board must apply every event, in order, so this
// hook hands each one to a callback instead. When a subscription ends with an error (the
// server ends them with UNAUTHENTICATED when the access token expires), it subscribes
// again after a short pause and says so through onResubscribe, so the view re-queries what
// it shows: events may have been missed in between.
import { useEffect, useRef, useState } from 'react';
import { useClient, type AnyVariables, type TypedDocumentNode } from 'urql';

export type LiveStatus = 'live' | 'retrying';

export interface LiveOptions<Data> {
  onEvent: (data: Data) => void;
  /** Called after a failed subscription is started again: re-query what is shown. */
  onResubscribe?: () => void;
  pause?: boolean;
}

const RETRY_DELAYS_MS = [500, 1000, 2000, 5000, 10000];

export function useLiveEvents<Data, Vars extends AnyVariables>(
  query: TypedDocumentNode<Data, Vars>,
  variables: Vars,
  options: LiveOptions<Data>,
): LiveStatus {
  const client = useClient();
  const latest = useRef(options);
  latest.current = options;
  const [status, setStatus] = useState<LiveStatus>('live');
  const [attempt, setAttempt] = useState(0);
  const key = JSON.stringify(variables);

  useEffect(() => {
    if (options.pause) return undefined;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let failed = false;
    if (attempt > 0) {
      setStatus('live');
      latest.current.onResubscribe?.();
    }
    const subscription = client
      .subscription(query, JSON.parse(key) as Vars)
      .subscribe((result) => {
        if (result.error) {
          if (failed) return;
          failed = true;
          setStatus('retrying');
          const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
          retryTimer = setTimeout(() => setAttempt((n) => n + 1), delay);
          return;
        }
        if (result.data) {
          setStatus('live');
          latest.current.onEvent(result.data);
        }
      });
    return () => {
      if (retryTimer) clearTimeout(retryTimer);
      subscription.unsubscribe();
    };
  }, [client, query, key, attempt, options.pause]);

  return status;
}
