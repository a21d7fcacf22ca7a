// Helpers for live views: re-query what is on screen after the WebSocket reconnected, since
// events sent while it was down (network loss, server restart, token rotation) are not replayed.
import { useEffect, useRef } from 'react';

import { onReconnect } from './api';

/**
 * Calls `callback` after every reconnection of the page's WebSocket, e.g.
 * `useOnReconnect(() => reexecuteQuery({ requestPolicy: 'network-only' }))`.
 */
export function useOnReconnect(callback: () => void): void {
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => onReconnect(() => latest.current()), []);
}
