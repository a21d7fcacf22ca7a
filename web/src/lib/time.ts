// Times as the clinic means them: in the doctor's IANA zone, with the zone named, using the
// browser's Intl (no date library needed for formatting in a zone).
import { useEffect, useState } from 'react';

/** The browser's own zone, used when a caller has no doctor zone at hand. */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function formatter(timeZone: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat(undefined, { timeZone: timeZone ?? localZone(), ...options });
}

/** "GMT+5:30" for a zone at an instant (offsets change with daylight saving). */
export function zoneOffset(timeZone: string, at: Date = new Date()): string {
  const part = formatter(timeZone, { timeZoneName: 'shortOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? '';
}

/** "Asia/Kolkata (GMT+5:30)": the zone named as users and clinics know it. */
export function zoneLabel(timeZone: string, at: Date = new Date()): string {
  const offset = zoneOffset(timeZone, at);
  return offset ? `${timeZone} (${offset})` : timeZone;
}

/** "Thu 26 Nov 2026, 09:30 Asia/Kolkata": an instant in a zone, the zone named. */
export function formatDateTime(iso: string | Date, timeZone?: string): string {
  const at = typeof iso === 'string' ? new Date(iso) : iso;
  const zone = timeZone ?? localZone();
  const text = formatter(zone, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
  return `${text} ${zone}`;
}

/** "09:30" of an instant in a zone (pair with zoneLabel once per view). */
export function formatTime(iso: string | Date, timeZone?: string): string {
  const at = typeof iso === 'string' ? new Date(iso) : iso;
  return formatter(timeZone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
}

/** "Thu 26 Nov 2026" for a calendar date "2026-11-26" (no zone: it is already a local date). */
export function formatDate(date: string, options: Intl.DateTimeFormatOptions = {}): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Intl.DateTimeFormat(undefined, {
    timeZone: 'UTC',
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    ...options,
  }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** Today's calendar date ("YYYY-MM-DD") in a zone: the doctor's "today" may not be yours. */
export function todayIn(timeZone?: string, now: Date = new Date()): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timeZone ?? localZone(),
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

/** A calendar date plus n days ("2026-11-30" + 2 -> "2026-12-02"). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Whole seconds from now until an instant (0 once past). */
export function secondsUntil(iso: string, now: number = Date.now()): number {
  return Math.max(0, Math.ceil((new Date(iso).getTime() - now) / 1000));
}

/** "4:05" for a countdown. */
export function formatCountdown(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** "45 seconds", "2 minutes", "1 hour 5 minutes": for retry-after and similar waits. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h} hour${h === 1 ? '' : 's'}${m ? ` ${m} minute${m === 1 ? '' : 's'}` : ''}`;
}

/** The current time, re-rendering every `intervalMs` (countdowns, "past" slots). */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(id);
  }, [intervalMs]);
  return now;
}
