/** The portal's place in the URL: `#/patient?doctor=<id>&date=<YYYY-MM-DD>`, so a link (or a
 * reload) opens that doctor's day directly. */
import { useCallback, useEffect, useState } from "react";
import { isDate } from "./dates";

export interface PatientRoute {
  doctor: string | null;
  date: string | null;
}

function read(): PatientRoute {
  const hash = window.location.hash;
  const query = hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "";
  const params = new URLSearchParams(query);
  const date = params.get("date");
  return { doctor: params.get("doctor") || null, date: isDate(date) ? date : null };
}

/** The deep-link parameters, kept in step with the address bar (replaceState: choosing a doctor
 * is not a new history entry, and it does not re-trigger the app's hash router). */
export function usePatientRoute(): [PatientRoute, (next: PatientRoute) => void] {
  const [route, setRoute] = useState<PatientRoute>(read);
  useEffect(() => {
    const onHash = () => setRoute(read());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  const update = useCallback((next: PatientRoute) => {
    const params = new URLSearchParams();
    if (next.doctor) params.set("doctor", next.doctor);
    if (next.doctor && next.date) params.set("date", next.date);
    const query = params.toString();
    const url = `${window.location.pathname}${window.location.search}#/patient${query ? `?${query}` : ""}`;
    window.history.replaceState(window.history.state, "", url);
    setRoute(next);
  }, []);
  return [route, update];
}
