// The GraphQL client every view uses: urql over HTTP for queries and mutations, graphql-ws for
// subscriptions. Tokens are refreshed (with rotation) before they expire and on UNAUTHENTICATED;
// whenever the access token changes, the WebSocket reconnects so `connection_init` carries it.
import { authExchange } from '@urql/exchange-auth';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';

import { ApiError, isAuthError } from './errors';
import {
  AUTH_PAYLOAD_FIELDS,
  type AuthPayload,
  type Session,
  getSession,
  reloadStoredSession,
  sessionFromPayload,
  setSession,
  subscribeSession,
} from './session';

/**
 * The API's HTTP URL. Defaults to `/graphql` on the page's own origin (the API serves this
 * client); a build for another API sets `VITE_API_URL` (see README "Web client").
 */
export function apiHttpUrl(): string {
  const configured = (import.meta.env.VITE_API_URL as string | undefined) || '/graphql';
  return new URL(configured, window.location.href).toString();
}

/** The same endpoint for WebSocket subscriptions (ws: or wss:). */
export function apiWsUrl(): string {
  const url = new URL(apiHttpUrl());
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 60_000;

/**
 * A bare GraphQL POST, for sign-in, register and refresh: they must not go through the
 * auth exchange (which would try to refresh on their UNAUTHENTICATED answers).
 */
export async function rawRequest<T>(
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<T> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(apiHttpUrl(), {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch (cause) {
    throw new ApiError('NETWORK_ERROR', 'Cannot reach the server', {}, { cause });
  }
  let body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  try {
    body = await response.json();
  } catch (cause) {
    throw new ApiError('NETWORK_ERROR', `The server answered ${response.status}`, {}, { cause });
  }
  const first = body.errors?.[0];
  if (first) {
    const extensions = first.extensions ?? {};
    throw new ApiError(String(extensions.code ?? 'INTERNAL_SERVER_ERROR'), first.message, extensions);
  }
  if (!body.data) throw new ApiError('NETWORK_ERROR', `The server answered ${response.status}`);
  return body.data;
}

const REFRESH_MUTATION = `mutation Refresh($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { ${AUTH_PAYLOAD_FIELDS} }
}`;

let refreshing: Promise<Session | null> | null = null;

/**
 * Rotates the tokens once however many callers ask at the same time: the old refresh token
 * stops working after one use, and presenting a spent one revokes the login everywhere, so
 * two parallel refreshes (two views, or two tabs whose timers fire together) would sign the
 * user out. Within the page a shared promise, across tabs a Web Lock; whoever gets the lock
 * second finds the rotated session in storage and adopts it. Resolves to the new session, or
 * null when the session is gone (signed out).
 */
export function refreshSession(): Promise<Session | null> {
  const replacing = getSession()?.accessToken;
  refreshing ??= withRefreshLock(() => doRefresh(replacing)).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function withRefreshLock(run: () => Promise<Session | null>): Promise<Session | null> {
  // Web Locks exist in secure contexts (https, localhost); elsewhere one tab at a time is luck.
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  return locks ? await locks.request('aayulink.refresh', run) : run();
}

async function doRefresh(replacing: string | undefined): Promise<Session | null> {
  const session = reloadStoredSession();
  if (!session) return null;
  if (session.accessToken !== replacing) return session; // another tab rotated meanwhile
  try {
    const data = await rawRequest<{ refreshToken: AuthPayload }>(REFRESH_MUTATION, {
      refreshToken: session.refreshToken,
    });
    const next = sessionFromPayload(data.refreshToken);
    setSession(next);
    return next;
  } catch (error) {
    if (error instanceof ApiError && error.code !== 'NETWORK_ERROR' && error.code !== 'RATE_LIMITED') {
      setSession(null);
      return null;
    }
    throw error;
  }
}

/**
 * Inside the last stretch of the token's life: half the refresh margin, or a quarter of its
 * lifetime when that is shorter. A server whose tokens live less than the margin would
 * otherwise make every request rotate, every rotation restart the socket and every restart
 * re-query: a loop, once a second.
 */
function nearExpiry(session: Session): boolean {
  const lifetime = session.issuedAt ? session.expiresAt - session.issuedAt : Number.POSITIVE_INFINITY;
  return session.expiresAt - Date.now() < Math.min(REFRESH_MARGIN_MS / 2, lifetime / 4);
}

/** The access token to send now, refreshed first when it is about to expire. */
export async function freshAccessToken(): Promise<string | null> {
  let session = getSession();
  if (session && nearExpiry(session)) {
    try {
      session = await refreshSession();
    } catch {
      // Offline: send the old token; the server's answer decides.
    }
  }
  return session?.accessToken ?? null;
}

// --- WebSocket ------------------------------------------------------------------------------

type ReconnectListener = () => void;
const reconnectListeners = new Set<ReconnectListener>();

/**
 * Called after the WebSocket reconnected (network loss, server restart, token change):
 * events may have been missed meanwhile, so re-query what you show.
 */
export function onReconnect(listener: ReconnectListener): () => void {
  reconnectListeners.add(listener);
  return () => reconnectListeners.delete(listener);
}

let wsClient: WsClient | null = null;
let restartWs: () => void = () => {};

/**
 * The one graphql-ws client of the page: lazy (connects on the first subscription, so a view
 * that watches its `connected` events from its first render sees the first connection),
 * retrying forever, with the current access token in every `connection_init`. The restart recipe is
 * graphql-ws's own ("restartable client"): close with 4205 and let the client reconnect.
 */
export function getWsClient(): WsClient {
  if (wsClient) return wsClient;
  let lastToken: string | null = null;
  // While connectionParams runs (it may rotate the tokens itself: a token inside the refresh
  // margin), a rotation needs no restart: the init it sends reads the session afterwards.
  let initialising = false;
  wsClient = createWsClient({
    url: apiWsUrl(),
    lazy: true,
    keepAlive: 20_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    // A deliberate restart reconnects at once; real failures back off up to ~30 s.
    retryWait: async (retries) => {
      const ms = retries === 0 ? 100 : Math.min(30_000, 1000 * 2 ** retries) + Math.random() * 1000;
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
    connectionParams: async () => {
      initialising = true;
      try {
        await freshAccessToken();
      } finally {
        initialising = false;
      }
      lastToken = getSession()?.accessToken ?? null;
      return lastToken ? { Authorization: `Bearer ${lastToken}` } : {};
    },
    on: {
      opened: (socket) => {
        const ws = socket as WebSocket;
        // A socket not open yet (or closing) sends, or reconnects with, the session's token
        // as it is then: only an open one needs restarting.
        restartWs = () => {
          if (ws.readyState === WebSocket.OPEN) ws.close(4205, 'Client Restart');
        };
      },
      connected: (_socket, _payload, wasRetry) => {
        if (wasRetry) for (const listener of reconnectListeners) listener();
      },
      closed: (event) => {
        // 4403: the server refused the token we sent; get a new one before the retry.
        if ((event as CloseEvent | undefined)?.code === 4403 && getSession()) {
          void refreshSession().catch(() => undefined);
        }
      },
    },
  });
  // Sign-in, sign-out and every rotation: reconnect with the new token.
  subscribeSession((session) => {
    if (!initialising && (session?.accessToken ?? null) !== lastToken) restartWs();
  });
  return wsClient;
}

type WsPayload = Parameters<WsClient['subscribe']>[0];
/** urql's observer of subscription results (methods: checked bivariantly, as urql's are). */
interface ResultSink {
  next(value: unknown): void;
  error(error: unknown): void;
  complete(): void;
}

function unauthenticated(result: unknown): boolean {
  const errors = (result as { errors?: { extensions?: { code?: unknown } }[] } | null)?.errors;
  return !!errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
}

/**
 * The server ends a subscription with UNAUTHENTICATED once the token it connected with
 * expires (a laptop that slept through the refresh). Refresh, and subscribe again on the new
 * connection, instead of showing the view an error; the view re-queries on reconnect.
 */
function resubscribingOnExpiry(
  ws: WsClient,
  input: WsPayload,
  sink: ResultSink,
): { unsubscribe(): void } {
  let active = true;
  let attempt = 0;
  let stop = () => {};
  const start = () => {
    const mine = ++attempt;
    // Callbacks of an ended attempt (its late `complete`) must not reach the view.
    const current = () => active && mine === attempt;
    stop = ws.subscribe(input, {
      next(value) {
        if (!current()) return;
        if (unauthenticated(value) && getSession()) {
          attempt++; // this attempt is over, whatever it says next
          void refreshSession()
            .catch(() => null)
            .then((session) => {
              if (!active) return;
              if (session) {
                // The new token restarts the socket (subscribeSession); resubscribe on it.
                start();
                for (const listener of reconnectListeners) listener();
              } else {
                sink.next(value);
                sink.complete();
              }
            });
          return;
        }
        sink.next(value);
      },
      error(error) {
        if (current()) sink.error(error);
      },
      complete() {
        if (current()) sink.complete();
      },
    });
  };
  start();
  return {
    unsubscribe() {
      active = false;
      stop();
    },
  };
}

// --- urql -----------------------------------------------------------------------------------

let refreshTimer: number | undefined;

/** Refresh shortly before expiry, so a quiet page keeps a live token (and socket). */
function scheduleRefresh(session: Session | null): void {
  window.clearTimeout(refreshTimer);
  if (!session) return;
  const delay = Math.max(5_000, session.expiresAt - Date.now() - REFRESH_MARGIN_MS);
  refreshTimer = window.setTimeout(() => {
    void refreshSession().catch(() => scheduleRefresh(getSession()));
  }, delay);
}
subscribeSession(scheduleRefresh);
scheduleRefresh(getSession());

/**
 * A new urql client (and so an empty cache): make one per signed-in user, so one user's data
 * never shows to the next. Subscriptions share the page's one WebSocket.
 */
export function createApiClient(): Client {
  const ws = getWsClient();
  return new Client({
    url: apiHttpUrl(),
    // Live views re-query after a reconnect; the cache must not hide server state for long.
    requestPolicy: 'cache-and-network',
    exchanges: [
      cacheExchange,
      authExchange(async (utils) => ({
        addAuthToOperation(operation) {
          const session = getSession();
          if (!session) return operation;
          return utils.appendHeaders(operation, { Authorization: `Bearer ${session.accessToken}` });
        },
        willAuthError() {
          const session = getSession();
          return !!session && nearExpiry(session);
        },
        didAuthError(error) {
          return !!getSession() && isAuthError(error);
        },
        async refreshAuth() {
          await refreshSession().catch(() => null);
        },
      })),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              return resubscribingOnExpiry(ws, input, sink);
            },
          };
        },
      }),
    ],
  });
}
