/** The zone the portal shows times in: the viewer's own (`User.timezone` from `me`, else the
 * browser's), or, with the switch on, each doctor's local time. Slots carry their instant
 * (`startsAt`), so a time is re-read in any zone without a date library. */
import { createContext, useCallback, useContext } from 'react';
import { formatTime, localZone, todayIn, zoneLabel } from '../lib/time';
import { shortDate } from './dates';

export interface ViewZone {
  /** The viewer's own zone. */
  mine: string;
  /** Show each doctor's local times instead of the viewer's. */
  doctors: boolean;
}

export const ViewZoneContext = createContext<ViewZone>({ mine: localZone(), doctors: false });

/** The zone to show a doctor's times in, for this viewer. */
export function useZoneFor(): (doctorZone: string) => string {
  const { doctors, mine } = useContext(ViewZoneContext);
  return useCallback((doctorZone: string) => (doctors ? doctorZone : mine), [doctors, mine]);
}

export function useViewZone(): ViewZone {
  return useContext(ViewZoneContext);
}

/** "YYYY-MM-DD" of an instant in a zone. */
export function dateIn(iso: string, zone: string): string {
  return todayIn(zone, new Date(iso));
}

/** "Tue 1 Dec, 09:00–09:30" of an instant range in a zone. */
export function rangeIn(startsAt: string, endsAt: string, zone: string): string {
  return `${shortDate(dateIn(startsAt, zone))}, ${formatTime(startsAt, zone)}–${formatTime(endsAt, zone)}`;
}

/** "09:00 on Tue 1 Dec" of an instant in a zone. */
export function timeOnDay(startsAt: string, zone: string): string {
  return `${formatTime(startsAt, zone)} on ${shortDate(dateIn(startsAt, zone))}`;
}

/** "America/Los_Angeles (GMT-8)", and where the doctor's zone differs, the doctor's own time
 * of the same instant: "; the doctor's time: Tue 1 Dec, 09:00 Asia/Kolkata (GMT+5:30)". */
export function zoneNote(zone: string, doctorZone: string, startsAt?: string): string {
  if (zone === doctorZone) return zoneLabel(zone);
  const theirs = startsAt
    ? `${shortDate(dateIn(startsAt, doctorZone))}, ${formatTime(startsAt, doctorZone)} `
    : '';
  return `${zoneLabel(zone)}; the doctor's time: ${theirs}${zoneLabel(doctorZone)}`;
}
