/** One doctor's day as a grid of times, greyed and re-labelled live as other patients hold and
 * book them (slotUpdates for this doctor and date only). */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { formatTime, zoneLabel } from '../lib/time';
import { longDate, shortDate } from './dates';
import { dateIn, useViewZone } from './zone';
import { DAY_SLOTS, SLOT_UPDATES, type DoctorSummary, type Slot } from './operations';
import {
  cellState,
  mergeSlots,
  pickable,
  STATE_BADGE,
  STATE_TEXT,
  type CellState,
  type SlotEvents,
} from './slotState';
import { useRereadWhenLive, useSocket } from '../lib/live';

interface SlotEventData {
  slotUpdates: { kind: string; at: string; slot: Slot };
}

/** The open day's bookable count as the live grid sees it. */
export interface LiveCount {
  doctorId: string;
  date: string;
  bookable: number;
}

interface Props {
  doctorId: string;
  date: string;
  /** The slot a mutation is under way for, shown busy. */
  busySlotId: string | null;
  /** The slots of the patient's own active appointments. */
  mySlotIds?: ReadonlySet<string>;
  /** Move the focus to the first time that can be picked (a reschedule just began). */
  focusFirst?: boolean;
  onFocused?: () => void;
  rescheduling: boolean;
  onPick: (slot: Slot, state: CellState, doctor: DoctorSummary) => void;
  onChange?: (message: string) => void;
  onBookable?: (count: LiveCount) => void;
  /** Called once the day is drawn (or could not be read). */
  onSettled?: () => void;
  /** How many eventsMissed notices the page has had: each one reads the day again. */
  missed: number;
}

export default function DayGrid({
  doctorId,
  date,
  busySlotId,
  mySlotIds,
  focusFirst = false,
  onFocused,
  rescheduling,
  onPick,
  onChange,
  onBookable,
  onSettled,
  missed,
}: Props) {
  // The day is read once the socket is up, so its subscription is live before the read and no
  // change falls between the two; each reconnection (events may have been lost meanwhile) and
  // each RESYNC reads it again. One query brings the doctor's zone and booking window too, so a
  // deep link draws its grid without waiting for the doctor list.
  const { epoch, connected } = useSocket();
  // A socket that cannot connect (a proxy without WebSockets) must not hide the day: read it
  // anyway after a while, and say that it is not live.
  const [gaveUpWaiting, setGaveUpWaiting] = useState(false);
  useEffect(() => {
    const timer = window.setTimeout(() => setGaveUpWaiting(true), 2500);
    return () => window.clearTimeout(timer);
  }, []);
  const [{ data, fetching, error }, refetch] = useQuery<{
    doctor: (DoctorSummary & { daySlots: Slot[] }) | null;
  }>({
    query: DAY_SLOTS,
    variables: { id: doctorId, date },
    requestPolicy: 'cache-and-network',
    pause: epoch === 0 && !gaveUpWaiting,
    context: useMemo(() => ({ additionalTypenames: ['Slot'] }), []),
  });
  const [events] = useSubscription<SlotEventData, SlotEvents>(
    { query: SLOT_UPDATES, variables: { doctorId, date } },
    (previous = {}, event) => {
      const slot = event.slotUpdates.slot;
      return {
        ...previous,
        [slot.id]: { slot, seenAt: Date.now(), removed: event.slotUpdates.kind === 'REMOVED' },
      };
    },
  );
  useRereadWhenLive(epoch, missed, gaveUpWaiting, refetch);
  const doctor = data?.doctor ?? null;
  const view = useViewZone();
  const zone = doctor && view.doctors ? doctor.timezone : view.mine;
  const gridRef = useRef<HTMLDivElement>(null);

  const snapshotAt = useMemo(() => Date.now(), [data]);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 15_000);
    return () => window.clearInterval(timer);
  }, []);

  const slots = useMemo(
    () => mergeSlots(doctor?.daySlots ?? [], snapshotAt, events.data ?? {}),
    [doctor, snapshotAt, events.data],
  );

  // Say what changed under the patient's eyes (another patient's hold or booking).
  const seen = useRef<Map<string, CellState>>(new Map());
  useEffect(() => {
    if (!doctor) return;
    const before = seen.current;
    const after = new Map<string, CellState>();
    const changed: string[] = [];
    for (const slot of slots) {
      const state = cellState(slot, doctor, now, mySlotIds);
      after.set(slot.id, state);
      const was = before.get(slot.id);
      if (was && was !== state && state !== 'PAST' && state !== 'MINE' && state !== 'YOURS') {
        changed.push(`${formatTime(slot.startsAt, zone)} is now ${STATE_TEXT[state]}`);
      }
    }
    seen.current = after;
    if (changed.length && onChange) onChange(changed.join('; '));
  }, [slots, doctor, now, onChange, mySlotIds, zone]);

  const ready = !!doctor && !fetching && connected;
  useEffect(() => {
    if (!focusFirst || !ready) return;
    const first =
      gridRef.current?.querySelector<HTMLElement>('[data-testid="slot-cell"][aria-disabled="false"]') ??
      gridRef.current;
    first?.focus();
    onFocused?.();
  }, [focusFirst, ready, onFocused]);
  useEffect(() => {
    if (ready || error || (data && !data.doctor)) onSettled?.();
  }, [ready, error, data, onSettled]);
  const bookable = doctor
    ? slots.filter((s) => cellState(s, doctor, now) === 'AVAILABLE').length
    : 0;
  useEffect(() => {
    if (doctor) onBookable?.({ doctorId, date, bookable });
  }, [doctor, doctorId, date, bookable, onBookable]);

  return (
    <section className="pp-card" aria-labelledby="pp-day-title">
      <h2 id="pp-day-title">{longDate(date)}</h2>
      <p className="pp-muted" data-testid="grid-zone">
        {doctor
          ? `${
              zone === doctor.timezone
                ? `Times in ${zoneLabel(zone)}, the doctor's time zone.`
                : `Times in ${zoneLabel(zone)}, your time zone (the doctor's day in ${zoneLabel(doctor.timezone)}).`
            } ${bookable} of ${slots.length} times bookable.`
          : data && !fetching
            ? 'This doctor was not found; choose another.'
            : 'Loading the day…'}
      </p>
      {doctor && !connected && (
        <p className="pp-warn" role="status" data-testid="grid-offline">
          Live updates are reconnecting; times shown may be out of date.
        </p>
      )}
      {rescheduling && <p className="pp-hint">Pick the new time for your appointment.</p>}
      {error && !data && (
        <p role="alert" className="pp-error">
          Could not load this day. {error.message}
        </p>
      )}
      <div
        ref={gridRef}
        tabIndex={-1}
        className="pp-grid"
        data-testid="day-grid"
        data-ready={ready ? 'true' : 'false'}
        aria-busy={!ready}
        role="group"
        aria-label={`Times on ${longDate(date)}`}
      >
        {doctor &&
          slots.map((slot) => {
            const state = cellState(slot, doctor, now, mySlotIds);
            const can = pickable(state);
            const start = formatTime(slot.startsAt, zone);
            const end = formatTime(slot.endsAt ?? slot.startsAt, zone);
            const day = dateIn(slot.startsAt, zone);
            // The doctor's day can begin or end on another of the viewer's days: say which.
            const otherDay = day !== date ? shortDate(day) : '';
            const busy = busySlotId === slot.id;
            return (
              <button
                key={slot.id}
                type="button"
                className={`pp-cell pp-cell-${state.toLowerCase()}`}
                data-testid="slot-cell"
                data-slot-id={slot.id}
                data-state={state}
                data-start-time={slot.startTime}
                data-shown-time={start}
                aria-disabled={!can || busy}
                onClick={() => {
                  if (can && !busy) onPick(slot, state, doctor);
                }}
              >
                {/* Named by what it shows, then the rest for readers (no mismatching aria-label). */}
                <span className="pp-cell-time">{start}</span>{' '}
                {otherDay && <span className="pp-cell-day">{otherDay} </span>}
                <span className="pp-cell-badge">{busy ? '…' : STATE_BADGE[state]}</span>
                <span className="pp-sr">
                  , {start} to {end}, {STATE_TEXT[state]}
                </span>
              </button>
            );
          })}
        {doctor && slots.length === 0 && <p className="pp-muted">No times on this day.</p>}
      </div>
    </section>
  );
}
