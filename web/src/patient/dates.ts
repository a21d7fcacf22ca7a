/** Calendar labels for "YYYY-MM-DD" dates (slots carry their date and "HH:MM" in the doctor's
 * zone already, so these format plain dates, never instants). */
import { formatDate } from '../lib/time';

export function isDate(value: string | null | undefined): value is string {
  return !!value && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value));
}

/** "Tuesday, 1 December 2026". */
export const longDate = (date: string): string =>
  formatDate(date, { weekday: 'long', month: 'long' });

/** "Tue 1 Dec": the short label used in lists and the calendar. */
export const shortDate = (date: string): string => formatDate(date, { year: undefined });

export const weekday = (date: string): string =>
  formatDate(date, { day: undefined, month: undefined, year: undefined });

export const dayMonth = (date: string): string =>
  formatDate(date, { weekday: undefined, year: undefined });
