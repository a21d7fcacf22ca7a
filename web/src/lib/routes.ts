// Hash routes of the one app: `#/patient` (default for patients), `#/admin`, `#/doctor`, each
// with query parameters after `?`. Views keep their selection in the URL (replace, not push),
// so a reload or a shared link opens the same doctor and date.
import { useEffect, useState } from 'react';

export type View = 'patient' | 'admin' | 'doctor';
const VIEWS: readonly View[] = ['patient', 'admin', 'doctor'];

export interface Route {
  /** null when the hash names no view: the app picks one from the user's role. */
  view: View | null;
  params: URLSearchParams;
}

export function parseHash(hash: string = window.location.hash): Route {
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const view = VIEWS.includes(path as View) ? (path as View) : null;
  return { view, params: new URLSearchParams(query) };
}

export function routeHash(view: View, params: Record<string, string | null | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const text = query.toString();
  return `#/${view}${text ? `?${text}` : ''}`;
}

/** Go to a view; `replace` for selection changes that should not fill the back button. */
export function navigate(
  view: View,
  params: Record<string, string | null | undefined> = {},
  { replace = false } = {},
): void {
  const hash = routeHash(view, params);
  if (window.location.hash === hash) return;
  if (replace) {
    window.history.replaceState(null, '', hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = hash;
  }
}

/** The current route, re-rendering on every hash change. */
export function useRoute(): Route {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parseHash(hash);
}

// --- The patient portal's deep link (agreed with the patient portal and the budgets bench) ---

/** What `#/patient?doctor=<doctorId>&date=<YYYY-MM-DD>` selects. */
export interface PatientLink {
  doctorId?: string;
  date?: string;
}

/**
 * `#/patient?doctor=<id>&date=<YYYY-MM-DD>`: the patient portal opens with that doctor chosen
 * (its specialty too) and that date's day grid drawn; `[data-testid=day-grid]` gets
 * `data-ready="true"` once the slots are shown. The portal writes its selection back with
 * `navigate('patient', {doctor, date}, {replace: true})`. bench/b9_web.py measures this.
 */
export function patientLink({ doctorId, date }: PatientLink): string {
  return routeHash('patient', { doctor: doctorId, date });
}

export function readPatientLink(params: URLSearchParams): PatientLink {
  const date = params.get('date');
  return {
    doctorId: params.get('doctor') ?? undefined,
    date: date && /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : undefined,
  };
}
