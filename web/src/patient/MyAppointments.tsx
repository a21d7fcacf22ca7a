/** The patient's appointments, kept live by appointmentUpdates (a doctor's confirmation, a
 * reschedule or cancel from another tab), with cancel and reschedule. */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { formatTime } from '../lib/time';
import { rangeIn, timeOnDay, useZoneFor, zoneNote } from './zone';
import { useRereadWhenLive, useSocket } from '../lib/live';
import { APPOINTMENT_UPDATES, MY_APPOINTMENTS, type Appointment } from './operations';

const ACTIVE = new Set(['SCHEDULED', 'CONFIRMED', 'IN_PROGRESS']);
const STATUS_TEXT: Record<Appointment['status'], string> = {
  SCHEDULED: 'Scheduled',
  CONFIRMED: 'Confirmed',
  IN_PROGRESS: 'In progress',
  COMPLETED: 'Completed',
  CANCELLED: 'Cancelled',
  NO_SHOW: 'Missed',
};

interface EventData {
  appointmentUpdates: { kind: string; at: string; appointment: Appointment };
}
type Seen = Record<string, { appointment: Appointment; seenAt: number }>;

interface Props {
  busyId: string | null;
  rescheduling: string | null;
  onCancel: (appointment: Appointment, reason: string) => void;
  onReschedule: (appointment: Appointment) => void;
  onChange?: (message: string) => void;
  /** Hold the list back while a deep link's grid loads (its subscription starts at once). */
  later?: boolean;
  /** How many eventsMissed notices the page has had: each one reads the list again. */
  missed: number;
  /** The slots of the active appointments, whenever they change ("Yours" in the day grid). */
  onMine?: (slotIds: ReadonlySet<string>) => void;
  /** The appointment just booked or moved: its row takes the focus once drawn. */
  focusId?: string | null;
  onFocused?: () => void;
}

export default function MyAppointments({
  busyId,
  rescheduling,
  onCancel,
  onReschedule,
  onChange,
  later = false,
  missed,
  onMine,
  focusId = null,
  onFocused,
}: Props) {
  const zoneFor = useZoneFor();
  const [{ data, error }, refetch] = useQuery<{ myAppointments: Appointment[] }>({
    query: MY_APPOINTMENTS,
    requestPolicy: 'cache-and-network',
    pause: later,
    // An empty list carries no __typename: name it, so bookings refresh the list.
    context: useMemo(() => ({ additionalTypenames: ['Appointment'] }), []),
  });
  // Re-read after a reconnection or an eventsMissed notice: what came meanwhile is lost.
  const { epoch } = useSocket();
  useRereadWhenLive(epoch, missed, !later, refetch);
  const [events] = useSubscription<EventData, Seen>(
    { query: APPOINTMENT_UPDATES },
    (previous = {}, event) => {
      const appointment = event.appointmentUpdates.appointment;
      return { ...previous, [appointment.id]: { appointment, seenAt: Date.now() } };
    },
  );
  const snapshotAt = useMemo(() => Date.now(), [data]);

  const appointments = useMemo(() => {
    const byId = new Map<string, Appointment>();
    for (const a of data?.myAppointments ?? []) byId.set(a.id, a);
    for (const [id, seen] of Object.entries(events.data ?? {})) {
      const base = byId.get(id);
      const newer =
        !base ||
        Date.parse(seen.appointment.updatedAt) > Date.parse(base.updatedAt) ||
        (seen.appointment.updatedAt === base.updatedAt && seen.seenAt > snapshotAt);
      if (newer) byId.set(id, seen.appointment);
    }
    return [...byId.values()].sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  }, [data, events.data, snapshotAt]);

  // Announce changes made elsewhere (the doctor confirming, say).
  const known = useRef<Map<string, string>>(new Map());
  useEffect(() => {
    for (const a of appointments) {
      const was = known.current.get(a.id);
      if (was && was !== a.status && onChange) {
        onChange(
          `Your appointment at ${timeOnDay(a.startsAt, zoneFor(a.doctor.timezone))} is now ${STATUS_TEXT[a.status].toLowerCase()}.`,
        );
      }
    }
    known.current = new Map(appointments.map((a) => [a.id, a.status] as const));
  }, [appointments, onChange, zoneFor]);

  const mySlots = appointments
    .filter((a) => ACTIVE.has(a.status) || a.status === 'COMPLETED')
    .map((a) => a.slot.id)
    .sort()
    .join(',');
  useEffect(() => {
    onMine?.(new Set(mySlots ? mySlots.split(',') : []));
  }, [mySlots, onMine]);
  const now = Date.now();
  const upcoming = appointments.filter(
    (a) => ACTIVE.has(a.status) && Date.parse(a.startsAt) > now - 3_600_000,
  );
  const others = appointments.filter((a) => !upcoming.includes(a)).reverse();

  return (
    <section className="pp-card" aria-labelledby="pp-mine-title">
      <h2 id="pp-mine-title">My appointments</h2>
      {error && !data && (
        <p role="alert" className="pp-error">
          Could not load your appointments. {error.message}
        </p>
      )}
      {data && !upcoming.length && <p className="pp-muted">No upcoming appointments.</p>}
      <ul className="pp-list" data-testid="my-appointments">
        {upcoming.map((a) => (
          <Row
            key={a.id}
            appointment={a}
            busy={busyId === a.id}
            rescheduling={rescheduling === a.id}
            onCancel={onCancel}
            onReschedule={onReschedule}
            focus={focusId === a.id}
            onFocused={onFocused}
          />
        ))}
      </ul>
      {others.length > 0 && (
        <details className="pp-past">
          <summary>Past and cancelled ({others.length})</summary>
          <ul className="pp-list">
            {others.map((a) => (
              <Row key={a.id} appointment={a} busy={false} rescheduling={false} />
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

function Row({
  appointment: a,
  busy,
  rescheduling,
  onCancel,
  onReschedule,
  focus = false,
  onFocused,
}: {
  appointment: Appointment;
  busy: boolean;
  rescheduling: boolean;
  onCancel?: Props['onCancel'];
  onReschedule?: Props['onReschedule'];
  focus?: boolean;
  onFocused?: () => void;
}) {
  const [cancelling, setCancelling] = useState(false);
  const [reason, setReason] = useState('');
  const rowRef = useRef<HTMLLIElement>(null);
  const reasonRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (!focus) return;
    rowRef.current?.focus();
    onFocused?.();
  }, [focus, onFocused]);
  useEffect(() => {
    if (cancelling) reasonRef.current?.focus();
  }, [cancelling]);
  const zone = useZoneFor()(a.doctor.timezone);
  const changeable = (a.status === 'SCHEDULED' || a.status === 'CONFIRMED') && onCancel;
  const label = rangeIn(a.startsAt, a.endsAt, zone);
  return (
    <li
      ref={rowRef}
      tabIndex={-1}
      aria-label={`${label} with ${a.doctor.name}, ${STATUS_TEXT[a.status]}`}
      className="pp-appointment"
      data-testid="appointment-row"
      data-appointment-id={a.id}
      data-status={a.status}
    >
      <div>
        <strong>{label}</strong> with {a.doctor.name} ({a.doctor.specialty.name})
        <br />
        <span className="pp-muted" data-testid="appointment-zone">
          {zoneNote(zone, a.doctor.timezone, a.startsAt)}
        </span>
        {a.reasonForVisit && <span className="pp-muted"> · {a.reasonForVisit}</span>}
        {a.status === 'CANCELLED' && (
          <>
            <br />
            <span data-testid="cancellation-reason">
              {a.cancellationReason
                ? `Cancellation reason: ${a.cancellationReason}`
                : 'No cancellation reason was given.'}
            </span>
          </>
        )}
      </div>
      <span
        className={`pp-status pp-status-${a.status.toLowerCase()}`}
        data-testid="appointment-status"
      >
        {STATUS_TEXT[a.status]}
      </span>
      {changeable && !cancelling && (
        <div className="pp-actions">
          <button
            type="button"
            disabled={busy}
            aria-pressed={rescheduling}
            onClick={() => onReschedule?.(a)}
          >
            {rescheduling ? 'Choosing a new time…' : 'Reschedule'}
          </button>
          <button type="button" disabled={busy} onClick={() => setCancelling(true)}>
            Cancel…
          </button>
        </div>
      )}
      {changeable && cancelling && (
        <form
          className="pp-cancel"
          onSubmit={(e) => {
            e.preventDefault();
            onCancel?.(a, reason.trim());
          }}
        >
          <label htmlFor={`pp-cancel-${a.id}`}>Why are you cancelling? (optional)</label>
          <input
            ref={reasonRef}
            id={`pp-cancel-${a.id}`}
            value={reason}
            maxLength={500}
            onChange={(e) => setReason(e.target.value)}
          />
          <div className="pp-actions">
            <button type="submit" className="pp-danger" disabled={busy}>
              {busy ? 'Cancelling…' : `Cancel the ${formatTime(a.startsAt, zone)} appointment`}
            </button>
            <button
              type="button"
              onClick={() => {
                setCancelling(false);
                rowRef.current?.focus();
              }}
            >
              Keep it
            </button>
          </div>
        </form>
      )}
    </li>
  );
}
