/** One doctor's day as a grid of times, greyed and re-labelled live as other patients hold and
 * book them (slotUpdates for this doctor and date only). */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { zoneLabel } from '../lib/time';
import { longDate } from './dates';
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
import { useSocket } from './socket';

interface SlotEventData {
  slotUpdates: { kind: string; at: string; slot: Slot | null };
}

/** The open day's bookable count as the live grid sees it. */
export interface LiveCount {
  doctorId: string;
  date: string;
  bookable: number;
}

interface Props {
  doctor: DoctorSummary;
  date: string;
  /** The slot a mutation is under way for, shown busy. */
  busySlotId: string | null;
  rescheduling: boolean;
  onPick: (slot: Slot, state: CellState) => void;
  onChange?: (message: string) => void;
  onBookable?: (count: LiveCount) => void;
}

export default function DayGrid({
  doctor,
  date,
  busySlotId,
  rescheduling,
  onPick,
  onChange,
  onBookable,
}: Props) {
  const [{ data, fetching, error }, refetch] = useQuery<{ doctor: { daySlots: Slot[] } | null }>({
    query: DAY_SLOTS,
    variables: { id: doctor.id, date },
    requestPolicy: 'cache-and-network',
    context: useMemo(() => ({ additionalTypenames: ['Slot'] }), []),
  });
  const [resyncs, setResyncs] = useState(0);
  const [events] = useSubscription<SlotEventData, SlotEvents>(
    { query: SLOT_UPDATES, variables: { doctorId: doctor.id, date } },
    (previous = {}, event) => {
      const slot = event.slotUpdates.slot;
      if (!slot) {
        // "You may have missed events": read the day again.
        setResyncs((n) => n + 1);
        return previous;
      }
      return {
        ...previous,
        [slot.id]: { slot, seenAt: Date.now(), removed: event.slotUpdates.kind === 'REMOVED' },
      };
    },
  );

  // Each (re)connection of the socket may have missed events, and so may a RESYNC: read the
  // day again then. The grid is ready once the socket is up and the day read (a test's "B sees
  // it greyed" needs B's subscription live, not only B's first read).
  const { epoch, connected } = useSocket();
  const readFor = useRef('');
  useEffect(() => {
    const key = `${epoch}:${resyncs}`;
    if (epoch > 0 && readFor.current !== key) {
      refetch({ requestPolicy: 'network-only' });
      readFor.current = key;
    }
  }, [epoch, resyncs, refetch]);

  const snapshotAt = useMemo(() => Date.now(), [data]);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 15_000);
    return () => window.clearInterval(timer);
  }, []);

  const slots = useMemo(
    () => mergeSlots(data?.doctor?.daySlots ?? [], snapshotAt, events.data ?? {}),
    [data, snapshotAt, events.data],
  );

  // Say what changed under the patient's eyes (another patient's hold or booking).
  const seen = useRef<Map<string, CellState>>(new Map());
  useEffect(() => {
    const before = seen.current;
    const after = new Map<string, CellState>();
    const changed: string[] = [];
    for (const slot of slots) {
      const state = cellState(slot, doctor, now);
      after.set(slot.id, state);
      const was = before.get(slot.id);
      if (was && was !== state && state !== 'PAST') {
        changed.push(`${slot.startTime} is now ${STATE_TEXT[state]}`);
      }
    }
    seen.current = after;
    if (changed.length && onChange) onChange(changed.join('; '));
  }, [slots, doctor, now, onChange]);

  const ready = !!data && !fetching && connected && readFor.current === `${epoch}:${resyncs}`;
  const bookable = slots.filter((s) => cellState(s, doctor, now) === 'AVAILABLE').length;
  useEffect(() => {
    if (data) onBookable?.({ doctorId: doctor.id, date, bookable });
  }, [data, doctor.id, date, bookable, onBookable]);

  return (
    <section className="pp-card" aria-labelledby="pp-day-title">
      <h2 id="pp-day-title">{longDate(date)}</h2>
      <p className="pp-muted">
        Times in {zoneLabel(doctor.timezone)}, the doctor's time zone.{' '}
        {data && `${bookable} of ${slots.length} times bookable.`}
      </p>
      {rescheduling && <p className="pp-hint">Pick the new time for your appointment.</p>}
      {error && !data && (
        <p role="alert" className="pp-error">
          Could not load this day. {error.message}
        </p>
      )}
      <div
        className="pp-grid"
        data-testid="day-grid"
        data-ready={ready ? 'true' : 'false'}
        aria-busy={!ready}
        role="group"
        aria-label={`Times on ${longDate(date)}`}
      >
        {slots.map((slot) => {
          const state = cellState(slot, doctor, now);
          const can = pickable(state);
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
              aria-disabled={!can || busy}
              aria-label={`${slot.startTime} to ${slot.endTime}, ${STATE_TEXT[state]}`}
              onClick={() => {
                if (can && !busy) onPick(slot, state);
              }}
            >
              <span className="pp-cell-time">{slot.startTime}</span>
              <span className="pp-cell-badge">{busy ? '…' : STATE_BADGE[state]}</span>
            </button>
          );
        })}
        {data && slots.length === 0 && <p className="pp-muted">No times on this day.</p>}
      </div>
    </section>
  );
}
