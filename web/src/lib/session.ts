// The signed-in session (tokens + who), kept in localStorage so a reload stays signed in and
// other tabs see a rotated refresh token. Nothing here talks to the network.

export type Role = 'ADMIN' | 'DOCTOR' | 'PATIENT';

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  /** The doctor record of a DOCTOR login, null otherwise. */
  doctor: { id: string; name: string; timezone: string } | null;
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds at which the access token expires (from `expiresIn`). */
  expiresAt: number;
  /** Epoch milliseconds at which it was received; absent in sessions stored by older clients. */
  issuedAt?: number;
  user: SessionUser;
}

/** The AuthPayload fields every sign-in path selects. */
export const AUTH_PAYLOAD_FIELDS = `
  accessToken refreshToken expiresIn
  user { id email name role doctor { id name timezone } }
`;

export interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: SessionUser;
}

/**
 * localStorage key of the session JSON. Browser tests sign a context in by writing
 * `{accessToken, refreshToken, expiresAt, user}` here before the page loads.
 */
export const SESSION_STORAGE_KEY = 'aayulink.session';

type Listener = (session: Session | null) => void;
const listeners = new Set<Listener>();
let current: Session | null = readStored();

function readStored(): Session | null {
  try {
    const raw = window.localStorage.getItem(SESSION_STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (!parsed.accessToken || !parsed.refreshToken || !parsed.user?.id || !parsed.user.role) {
      return null;
    }
    return { expiresAt: 0, ...parsed } as Session;
  } catch {
    return null;
  }
}

export function sessionFromPayload(payload: AuthPayload): Session {
  const now = Date.now();
  return {
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
    issuedAt: now,
    expiresAt: now + payload.expiresIn * 1000,
    user: payload.user,
  };
}

export function getSession(): Session | null {
  return current;
}

/** The freshest stored session: another tab may have rotated the refresh token meanwhile. */
export function reloadStoredSession(): Session | null {
  const stored = readStored();
  if (stored?.refreshToken !== current?.refreshToken) setSession(stored, { persist: false });
  return current;
}

export function setSession(session: Session | null, { persist = true } = {}): void {
  current = session;
  if (persist) {
    try {
      if (session) window.localStorage.setItem(SESSION_STORAGE_KEY, JSON.stringify(session));
      else window.localStorage.removeItem(SESSION_STORAGE_KEY);
    } catch {
      // Private mode or storage full: the session still lives for this page.
    }
  }
  for (const listener of listeners) listener(session);
}

export function subscribeSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// Another tab signed in, out, or rotated the tokens.
window.addEventListener('storage', (event) => {
  if (event.key === SESSION_STORAGE_KEY) setSession(readStored(), { persist: false });
});
