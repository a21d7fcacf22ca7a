/** Whether the page's subscription socket is connected, and how many times it has connected:
 * a live view re-reads what it shows on each (re)connection, since events sent while it was
 * down are lost, and calls itself ready only while the socket is up. */
import { useEffect, useRef, useSyncExternalStore } from 'react';
import type { OperationContext } from 'urql';
import { getWsClient } from '../lib/api';

let state = { epoch: 0, connected: false };
const listeners = new Set<() => void>();
let watching = false;

function watch(): void {
  if (watching) return;
  watching = true;
  const client = getWsClient();
  const set = (next: typeof state) => {
    state = next;
    for (const listener of listeners) listener();
  };
  client.on('connected', () => set({ epoch: state.epoch + 1, connected: true }));
  client.on('closed', () => set({ ...state, connected: false }));
}

// From the start: the first connection may come before any view has asked.
watch();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useSocket(): { epoch: number; connected: boolean } {
  return useSyncExternalStore(subscribe, () => state);
}

/**
 * Re-reads a live view's query (network-only) after each reconnection of the socket and each
 * eventsMissed notice: events sent meanwhile are not replayed. `readEarly`: the first read may
 * have happened before the socket was up (then the first connection re-reads too).
 */
export function useRereadWhenLive(
  epoch: number,
  missed: number,
  readEarly: boolean,
  reexecute: (context?: Partial<OperationContext>) => void,
): void {
  const seen = useRef<string | null>(null);
  const early = useRef(false);
  if (epoch === 0 && readEarly) early.current = true;
  useEffect(() => {
    if (epoch === 0) return;
    const key = `${epoch}:${missed}`;
    if (seen.current === null) {
      seen.current = key;
      if (!early.current) return; // the first read came after the socket was up
    } else if (seen.current === key) return;
    seen.current = key;
    reexecute({ requestPolicy: 'network-only' });
  }, [epoch, missed, reexecute]);
}
