// Who is signed in, and the sign-in / register / sign-out actions. The provider also gives the
// views their urql client: a fresh one per user, so no cached data outlives a sign-out.
import {
  createContext,
  useCallback,
  useContext,
  useMemo,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { Provider as UrqlProvider } from 'urql';

import { createApiClient, rawRequest } from './api';
import {
  AUTH_PAYLOAD_FIELDS,
  type AuthPayload,
  type Role,
  type SessionUser,
  getSession,
  sessionFromPayload,
  setSession,
  subscribeSession,
} from './session';

export type { Role, SessionUser } from './session';

export interface RegisterInput {
  email: string;
  password: string;
  name: string;
  phone?: string;
  /** IANA; the register form sends the browser's, so times are shown in the patient's own. */
  timezone?: string;
}

export interface AuthState {
  user: SessionUser | null;
  role: Role | null;
  /** Throws ApiError (describeError gives the message). */
  login(email: string, password: string): Promise<SessionUser>;
  register(input: RegisterInput): Promise<SessionUser>;
  logout(): Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

const LOGIN = `mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { ${AUTH_PAYLOAD_FIELDS} }
}`;
const REGISTER = `mutation Register($input: RegisterInput!) {
  register(input: $input) { ${AUTH_PAYLOAD_FIELDS} }
}`;
const LOGOUT = `mutation Logout($refreshToken: String!) { logout(refreshToken: $refreshToken) }`;

export function AuthProvider({ children }: { children: ReactNode }) {
  const session = useSyncExternalStore(subscribeSession, getSession);
  const user = session?.user ?? null;

  const login = useCallback(async (email: string, password: string) => {
    const data = await rawRequest<{ login: AuthPayload }>(LOGIN, { email, password });
    setSession(sessionFromPayload(data.login));
    return data.login.user;
  }, []);

  const register = useCallback(async (input: RegisterInput) => {
    const data = await rawRequest<{ register: AuthPayload }>(REGISTER, {
      input: { ...input, phone: input.phone || null },
    });
    setSession(sessionFromPayload(data.register));
    return data.register.user;
  }, []);

  const logout = useCallback(async () => {
    const current = getSession();
    setSession(null);
    if (current) {
      // Best effort: the refresh token is revoked server-side; signing out never waits on it.
      await rawRequest(LOGOUT, { refreshToken: current.refreshToken }, current.accessToken).catch(
        () => undefined,
      );
    }
  }, []);

  const userId = user?.id ?? null;
  // eslint-disable-next-line react-hooks/exhaustive-deps -- one client per signed-in user
  const client = useMemo(() => createApiClient(), [userId]);
  const state = useMemo<AuthState>(
    () => ({ user, role: user?.role ?? null, login, register, logout }),
    [user, login, register, logout],
  );
  return (
    <AuthContext.Provider value={state}>
      <UrqlProvider value={client}>{children}</UrqlProvider>
    </AuthContext.Provider>
  );
}

/** `const { user, role, login, register, logout } = useAuth()`. */
export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth() outside <AuthProvider>');
  return state;
}
