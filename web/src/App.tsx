// The shell: sign-in when signed out, otherwise a header and the view the hash names. The
// admin and doctor views are lazily loaded chunks, so a patient never downloads them.
import { Suspense, lazy, useEffect } from 'react';

import SignIn from './SignIn';
import { Inbox } from './Inbox';
// Eager: the patient portal is the default view, and a lazy chunk would add a round trip
// before its day grid can draw (bench B9). The admin and doctor views load on demand.
import PatientPortal from './patient/PatientPortal';
import { AnnouncerProvider } from './lib/announce';
import { AuthProvider, useAuth, type Role } from './lib/auth';
import { navigate, routeHash, useRoute, type View } from './lib/routes';

const AdminBoard = lazy(() => import('./admin/AdminBoard'));
const DoctorDay = lazy(() => import('./doctor/DoctorDay'));

const HOME: Record<Role, View> = { PATIENT: 'patient', ADMIN: 'admin', DOCTOR: 'doctor' };
const TITLES: Record<View, string> = {
  patient: 'Book an appointment',
  admin: 'Live board',
  doctor: "Doctor's day",
};
/** Which views each role may open (the API enforces it; this only hides dead ends). */
const ALLOWED: Record<Role, readonly View[]> = {
  PATIENT: ['patient'],
  ADMIN: ['admin', 'patient'],
  DOCTOR: ['doctor'],
};

function Shell() {
  const { user, role, logout } = useAuth();
  const route = useRoute();

  useEffect(() => {
    if (role && (!route.view || !ALLOWED[role].includes(route.view))) {
      navigate(HOME[role], {}, { replace: true });
    }
  }, [role, route.view]);

  useEffect(() => {
    document.title = route.view ? `${TITLES[route.view]} · AayuLink` : 'AayuLink Booking';
  }, [route.view]);

  if (!user || !role) return <SignIn />;
  const view = route.view && ALLOWED[role].includes(route.view) ? route.view : HOME[role];

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">AayuLink</span>
        {ALLOWED[role].length > 1 && (
          <nav aria-label="Views">
            {ALLOWED[role].map((name) => (
              <a key={name} href={routeHash(name)} aria-current={name === view ? 'page' : undefined}>
                {TITLES[name]}
              </a>
            ))}
          </nav>
        )}
        <span className="who" data-testid="signed-in-user" title={`${user.name} (${role.toLowerCase()})`}>
          {user.name} <span className="role">({role.toLowerCase()})</span>
        </span>
        <Inbox />
        <button type="button" className="btn btn-quiet" onClick={() => void logout()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p role="status">Loading…</p>}>
          {view === 'patient' && <PatientPortal />}
          {view === 'admin' && <AdminBoard />}
          {view === 'doctor' && <DoctorDay />}
        </Suspense>
      </main>
    </>
  );
}

export default function App() {
  return (
    <AnnouncerProvider>
      <AuthProvider>
        <Shell />
      </AuthProvider>
    </AnnouncerProvider>
  );
}
