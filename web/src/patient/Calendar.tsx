/** Four weeks of a doctor's days, each with how many times a patient could book now. */
import { useMemo } from 'react';
import { useQuery } from 'urql';
import { addDays } from '../lib/time';
import { dayMonth, longDate, shortDate, weekday } from './dates';
import type { LiveCount } from './DayGrid';
import { AVAILABILITY, type DoctorSummary } from './operations';

const SPAN = 28;

interface Data {
  doctor: {
    availability: { date: string; bookable: number }[];
    nextAvailableSlot: { id: string; date: string; startTime: string } | null;
  } | null;
}

interface Props {
  doctor: DoctorSummary;
  today: string;
  from: string;
  selected: string;
  onFrom: (from: string) => void;
  onSelect: (date: string) => void;
  /** The open day's count from its live grid, newer than this query's. */
  live?: LiveCount | null;
}

export default function Calendar({ doctor, today, from, selected, onFrom, onSelect, live }: Props) {
  const to = addDays(from, SPAN - 1);
  const [{ data, error }] = useQuery<Data>({
    query: AVAILABILITY,
    variables: useMemo(() => ({ id: doctor.id, from, to }), [doctor.id, from, to]),
    requestPolicy: 'cache-and-network',
    // With no next slot the answer holds no Slot: name it, so bookings refresh the counts.
    context: useMemo(() => ({ additionalTypenames: ['Slot'] }), []),
  });
  const counts = new Map((data?.doctor?.availability ?? []).map((d) => [d.date, d.bookable]));
  if (live && live.doctorId === doctor.id && counts.has(live.date))
    counts.set(live.date, live.bookable);
  const next = data?.doctor?.nextAvailableSlot;
  const days = Array.from({ length: SPAN }, (_, i) => addDays(from, i));
  const lastBookable = addDays(today, doctor.maxDaysAhead);
  return (
    <section className="pp-card" aria-labelledby="pp-cal-title">
      <h2 id="pp-cal-title">Choose a day</h2>
      <p className="pp-muted" data-testid="next-available">
        {next
          ? `Next free time: ${shortDate(next.date)} at ${next.startTime}.`
          : data
            ? 'No bookable time in the booking window.'
            : '\u00a0'}
        {next && (
          <>
            {' '}
            <button type="button" className="pp-link" onClick={() => onSelect(next.date)}>
              Show that day
            </button>
          </>
        )}
      </p>
      {error && !data && (
        <p role="alert" className="pp-error">
          Could not load the calendar. {error.message}
        </p>
      )}
      <div className="pp-cal-nav">
        <button
          type="button"
          disabled={from <= today}
          onClick={() => onFrom(addDays(from, -SPAN))}
          aria-label="Previous four weeks"
        >
          ‹
        </button>
        <span>
          {dayMonth(from)} – {dayMonth(to)}
        </span>
        <button
          type="button"
          disabled={to >= lastBookable}
          onClick={() => onFrom(addDays(from, SPAN))}
          aria-label="Next four weeks"
        >
          ›
        </button>
      </div>
      <div className="pp-cal" role="group" aria-label="Days">
        {days.map((day) => {
          const count = counts.get(day);
          return (
            <button
              key={day}
              type="button"
              className={`pp-day${count ? ' pp-day-open' : ''}`}
              data-testid="calendar-day"
              data-date={day}
              data-bookable={count ?? 0}
              aria-pressed={day === selected}
              onClick={() => onSelect(day)}
            >
              {/* Named by what it shows (no aria-label, which axe's label-content-name-mismatch
                  flags when it does not start with the visible text); the rest is for readers. */}
              <span className="pp-day-wd">{weekday(day)}</span>{' '}
              <span className="pp-day-dm">{dayMonth(day)}</span>{' '}
              <span className="pp-day-n">{count === undefined ? '' : count}</span>
              <span className="pp-sr">{count === undefined ? ' loading' : ' bookable'}, {longDate(day)}</span>
            </button>
          );
        })}
      </div>
    </section>
  );
}
