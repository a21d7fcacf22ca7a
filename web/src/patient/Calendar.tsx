/** Four weeks of a doctor's days, each with how many times a patient could book now. */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useQuery } from 'urql';
import { addDays, formatTime } from '../lib/time';
import { dayMonth, longDate, shortDate, weekday } from './dates';
import type { LiveCount } from './DayGrid';
import { AVAILABILITY, type DoctorSummary } from './operations';
import { dateIn, useZoneFor } from './zone';

const SPAN = 28;
const WEEK = 7;
/** Phone width (patient.css's one-column layout): the calendar shows one week, so the day's
 * times sit right under the chosen day. */
const NARROW = '(max-width: 759px)';

function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => window.matchMedia(NARROW).matches);
  useEffect(() => {
    const query = window.matchMedia(NARROW);
    const changed = () => setNarrow(query.matches);
    query.addEventListener('change', changed);
    return () => query.removeEventListener('change', changed);
  }, []);
  return narrow;
}

interface Data {
  doctor: {
    availability: { date: string; bookable: number }[];
    nextAvailableSlot: { id: string; date: string; startTime: string; startsAt: string } | null;
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
  const zone = useZoneFor()(doctor.timezone);
  const days = Array.from({ length: SPAN }, (_, i) => addDays(from, i));
  const lastBookable = addDays(today, doctor.maxDaysAhead);
  const lastShown = addDays(today, Math.ceil((doctor.maxDaysAhead + 1) / SPAN) * SPAN - 1);

  // The ARIA grid pattern: one tab stop (the focused day), arrows move it, Enter chooses.
  const [active, setActive] = useState(selected);
  const current = active >= from && active <= to ? active : selected >= from && selected <= to ? selected : from;
  // A newly chosen day (a click, a deep link, "Show that day") becomes the focused one in the
  // same render, so the phone's one-week view never shows the old week first.
  const [lastSelected, setLastSelected] = useState(selected);
  if (lastSelected !== selected) {
    setLastSelected(selected);
    setActive(selected);
  }
  const wantFocus = useRef(false);
  const cells = useRef(new Map<string, HTMLButtonElement>());
  useEffect(() => {
    if (!wantFocus.current) return;
    wantFocus.current = false;
    cells.current.get(current)?.focus();
  }, [current]);
  const moveTo = (day: string, focus = true) => {
    const target = day < today ? today : day > lastShown ? lastShown : day;
    wantFocus.current = focus;
    setActive(target);
    if (target < from || target > to) {
      const pages = Math.floor((Date.parse(target) - Date.parse(today)) / 86_400_000 / SPAN);
      onFrom(addDays(today, pages * SPAN));
    } else if (focus) {
      cells.current.get(target)?.focus();
    }
  };
  const onKey = (event: KeyboardEvent<HTMLButtonElement>, day: string) => {
    const index = days.indexOf(day);
    const moves: Record<string, () => string> = {
      ArrowLeft: () => addDays(day, -1),
      ArrowRight: () => addDays(day, 1),
      ArrowUp: () => addDays(day, -WEEK),
      ArrowDown: () => addDays(day, WEEK),
      Home: () => addDays(day, -(index % WEEK)),
      End: () => addDays(day, WEEK - 1 - (index % WEEK)),
      PageUp: () => addDays(day, -SPAN),
      PageDown: () => addDays(day, SPAN),
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    moveTo(move());
  };
  const narrow = useNarrow();
  const [allWeeks, setAllWeeks] = useState(false);
  const oneWeek = narrow && !allWeeks;
  const weeks = Array.from({ length: SPAN / WEEK }, (_, w) => days.slice(w * WEEK, w * WEEK + WEEK));
  const shownWeek = weeks.find((week) => week.includes(current)) ?? weeks[0];
  return (
    <section className="pp-card" aria-labelledby="pp-cal-title">
      <h2 id="pp-cal-title">Choose a day</h2>
      <p className="pp-muted" data-testid="next-available">
        {next
          ? `Next free time: ${shortDate(dateIn(next.startsAt, zone))} at ${formatTime(next.startsAt, zone)}.`
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
          disabled={oneWeek ? shownWeek[0] <= today : from <= today}
          onClick={() => (oneWeek ? moveTo(addDays(current, -WEEK), false) : onFrom(addDays(from, -SPAN)))}
          aria-label={oneWeek ? 'Previous week' : 'Previous four weeks'}
        >
          ‹
        </button>
        <span>
          {oneWeek
            ? `${dayMonth(shownWeek[0])} – ${dayMonth(shownWeek[WEEK - 1])}`
            : `${dayMonth(from)} – ${dayMonth(to)}`}
        </span>
        <button
          type="button"
          disabled={oneWeek ? shownWeek[WEEK - 1] >= lastBookable : to >= lastBookable}
          onClick={() => (oneWeek ? moveTo(addDays(current, WEEK), false) : onFrom(addDays(from, SPAN)))}
          aria-label={oneWeek ? 'Next week' : 'Next four weeks'}
        >
          ›
        </button>
      </div>
      {/* Above the days: at phone width nothing comes between the chosen day and its times. */}
      {narrow && (
        <button
          type="button"
          className="pp-link pp-cal-more"
          aria-expanded={allWeeks}
          onClick={() => setAllWeeks((all) => !all)}
        >
          {allWeeks ? 'Show one week' : 'Show four weeks'}
        </button>
      )}
      <p className="pp-sr" id="pp-cal-keys">
        Arrow keys move between days, Page Up and Page Down by four weeks, Enter chooses.
      </p>
      <div
        className="pp-cal"
        role="grid"
        aria-labelledby="pp-cal-title"
        aria-describedby="pp-cal-keys"
        data-testid="calendar-grid"
      >
        {weeks.filter((week) => !oneWeek || week.includes(current)).map((week) => (
          <div role="row" className="pp-cal-week" key={week[0]}>
        {week.map((day) => {
          const count = counts.get(day);
          return (
            <div role="gridcell" key={day} aria-selected={day === selected}>
            <button
              ref={(el) => {
                if (el) cells.current.set(day, el);
                else cells.current.delete(day);
              }}
              type="button"
              tabIndex={day === current ? 0 : -1}
              className={`pp-day${count ? ' pp-day-open' : ''}${day === selected ? ' pp-day-selected' : ''}`}
              data-testid="calendar-day"
              data-date={day}
              data-bookable={count ?? 0}
              onClick={() => {
                setActive(day);
                onSelect(day);
              }}
              onKeyDown={(event) => onKey(event, day)}
            >
              {/* Named by what it shows (no aria-label, which axe's label-content-name-mismatch
                  flags when it does not start with the visible text); the rest is for readers. */}
              <span className="pp-day-wd">{weekday(day)}</span>{' '}
              <span className="pp-day-dm">{dayMonth(day)}</span>{' '}
              <span className="pp-day-n">{count === undefined ? '' : count}</span>
              <span className="pp-sr">
                {count === undefined ? ' loading' : ' bookable'}, {longDate(day)}
                {day === selected ? ', chosen' : ''}
              </span>
            </button>
            </div>
          );
        })}
          </div>
        ))}
      </div>
    </section>
  );
}
