// Helpers for live views. Events sent while the page's WebSocket is down (network loss,
// server restart, token rotation) are not replayed, so a live view re-reads what it shows
// each time the socket (re)connects, and calls itself ready only while it is connected.
import { useEffect, useRef, useSyncExternalStore } from 'react';
import type { OperationContext } from 'urql';

import { getWsClient, onReconnect } from './api';

/**
 * Calls `callback` after every reconnection of the page's WebSocket, e.g.
 * `useOnReconnect(() => reexecuteQuery({ requestPolicy: 'network-only' }))`.
 */
export function useOnReconnect(callback: () => void): void {
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => onReconnect(() => latest.current()), []);
}

export interface SocketState {
  /** How many times the socket has connected: re-query when it grows. */
  epoch: number;
  connected: boolean;
}

let socket: SocketState = { epoch: 0, connected: false };
const socketListeners = new Set<() => void>();
let watching = false;

function watchSocket(): void {
  if (watching) return;
  watching = true;
  const client = getWsClient();
  const set = (next: SocketState) => {
    socket = next;
    for (const listener of socketListeners) listener();
  };
  client.on('connected', () => set({ epoch: socket.epoch + 1, connected: true }));
  client.on('closed', () => set({ ...socket, connected: false }));
}

// From the start: the first connection may come before any view has asked.
watchSocket();

function subscribeSocket(listener: () => void): () => void {
  socketListeners.add(listener);
  return () => socketListeners.delete(listener);
}

/** `{ epoch, connected }` of the page's WebSocket, re-rendering on every change. */
export function useSocket(): SocketState {
  return useSyncExternalStore(subscribeSocket, () => socket);
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
