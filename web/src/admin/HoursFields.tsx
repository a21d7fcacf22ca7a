// Working hours as time pickers: one group per day, a row of "from"/"until" per range, a range
// added or removed with a button. A week is sent to `setSchedule` unchanged in shape
// ({weekday, ranges}); a day with no range is a day off.
import type { ReactNode } from 'react';
import type { TimeRange, Weekday } from './operations';
import { WEEKDAYS } from './operations';

export type WeekHours = Record<Weekday, TimeRange[]>;

/** Where the hours are wrong: the day (or "day" for a one-day form), the range, and why. */
export interface HoursProblem {
  day: string;
  index: number;
  message: string;
}

/** What a new range starts as: a morning, or the hour after the day's last range. */
const FIRST_RANGE: TimeRange = { start: '09:00', end: '13:00' };

export function titleCase(day: Weekday): string {
  return day.charAt(0) + day.slice(1).toLowerCase();
}

export function emptyWeek(): WeekHours {
  return Object.fromEntries(WEEKDAYS.map((d) => [d, []])) as unknown as WeekHours;
}

export function formatRanges(ranges: TimeRange[]): string {
  return ranges.map((r) => `${r.start}–${r.end}`).join(', ');
}

function nextRange(ranges: TimeRange[]): TimeRange {
  const last = ranges[ranges.length - 1];
  if (!last?.end) return { ...FIRST_RANGE };
  const [h, m] = last.end.split(':').map(Number);
  const start = Math.min(h + 1, 22);
  const pad = (n: number) => String(n).padStart(2, '0');
  return { start: `${pad(start)}:${pad(m)}`, end: `${pad(Math.min(start + 4, 23))}:${pad(m)}` };
}

/** The first thing wrong with one day's ranges: a time missing, an end not after its start,
 * or two ranges overlapping (the server would refuse them; saying so here names the day). */
export function rangesProblem(day: string, ranges: TimeRange[]): HoursProblem | null {
  for (const [index, r] of ranges.entries()) {
    if (!r.start || !r.end) return { day, index, message: `${day}: give both times of range ${index + 1}` };
    if (r.end <= r.start) return { day, index, message: `${day}: ${r.start}–${r.end} ends before it starts` };
  }
  const sorted = ranges.map((r, index) => ({ ...r, index })).sort((a, b) => a.start.localeCompare(b.start));
  for (let i = 1; i < sorted.length; i += 1) {
    if (sorted[i].start < sorted[i - 1].end) {
      const [a, b] = [sorted[i - 1], sorted[i]];
      return { day, index: b.index, message: `${day}: ${a.start}–${a.end} and ${b.start}–${b.end} overlap` };
    }
  }
  return null;
}

export function weekProblem(hours: WeekHours): HoursProblem | null {
  for (const weekday of WEEKDAYS) {
    const problem = rangesProblem(titleCase(weekday), hours[weekday]);
    if (problem) return problem;
  }
  return null;
}

/** Ranges sorted by start, as the schedule stores them. */
export function sortedRanges(ranges: TimeRange[]): TimeRange[] {
  return [...ranges].sort((a, b) => a.start.localeCompare(b.start));
}

/** One day's ranges as a group of time pickers named by `day` (its legend). */
export function RangesFields({
  day,
  ranges,
  onChange,
  problem,
  emptyText,
  name,
  children,
}: {
  day: string;
  ranges: TimeRange[];
  onChange: (ranges: TimeRange[]) => void;
  problem: HoursProblem | null;
  emptyText: string;
  /** Prefix of the inputs' names (forms and tests find them by it). */
  name: string;
  children?: ReactNode;
}) {
  const set = (index: number, part: keyof TimeRange, value: string) =>
    onChange(ranges.map((r, i) => (i === index ? { ...r, [part]: value } : r)));
  const wrong = problem?.day === day ? problem.index : -1;
  return (
    <fieldset className="day-hours" data-testid="day-hours" data-day={day}>
      <legend>{day}</legend>
      {ranges.length === 0 && <p className="muted day-off-note">{emptyText}</p>}
      {ranges.length > 0 && (
        <ul className="range-list">
          {ranges.map((r, index) => (
            // Ranges have no id of their own; their place in the day is what the form edits.
            <li key={index} className="range-row" data-testid="hours-range">
              <label>
                From
                <input
                  type="time"
                  step={300}
                  required
                  name={`${name}-${index}-start`}
                  value={r.start}
                  onChange={(e) => set(index, 'start', e.target.value)}
                  aria-invalid={wrong === index || undefined}
                />
              </label>
              <label>
                Until
                <input
                  type="time"
                  step={300}
                  required
                  name={`${name}-${index}-end`}
                  value={r.end}
                  onChange={(e) => set(index, 'end', e.target.value)}
                  aria-invalid={wrong === index || undefined}
                />
              </label>
              <button type="button" onClick={() => onChange(ranges.filter((_, i) => i !== index))}>
                Remove<span className="sr-only"> {day} hours {index + 1}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="row-actions">
        <button type="button" onClick={() => onChange([...ranges, nextRange(ranges)])}>
          Add hours<span className="sr-only"> to {day}</span>
        </button>
        {children}
      </div>
    </fieldset>
  );
}
