/** Whether the page's subscription socket is connected, and how many times it has connected:
 * a live view re-reads what it shows on each (re)connection, since events sent while it was
 * down are lost, and calls itself ready only while the socket is up. */
import { useSyncExternalStore } from 'react';
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
