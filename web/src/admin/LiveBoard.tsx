// The admin's live board for one date: every doctor's slots as cells whose state follows
// `slotUpdates`, who holds or booked each (admins may see it), and a feed of
// `appointmentUpdates`. Times are the doctor's wall-clock times, its zone named per row.
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { describeError } from '../lib/errors';
import { dayAppointments } from './appointments';
import { boardReducer, cellsOf, initialBoard, type Cell } from './boardState';
import { AppointmentPanel, type DeskResult } from './AppointmentPanel';
import { BoardCell, STATE_LABEL } from './BoardCell';
import { BookForPanel, type ChosenTime } from './BookForPanel';
import { FormError } from './forms';
import { RESCHEDULE_FOR } from './frontDesk';
import { intentKey, settleIntent } from '../lib/idempotency';
import { formatDate, formatTime, localZone, todayIn, zoneLabel } from '../lib/time';
import { clockIn } from './dates';
import { useSocket } from '../lib/live';
import { useLiveEvents } from './live';
import {
  APPOINTMENT_EVENTS,
  BOARD_DOCTORS,
  EVENTS_MISSED,
  ME,
  SLOT_EVENTS,
  type AppointmentEventData,
  type BoardAppointment,
} from './operations';

const FEED_LENGTH = 40;
const NO_VARIABLES = {};
const EVENT_LABEL: Record<string, string> = {
  CREATED: 'booked',
  CONFIRMED: 'confirmed',
  CANCELLED: 'cancelled',
  STATUS_CHANGED: 'status changed',
  RESCHEDULED: 'rescheduled',
  CHECKED_IN: 'checked in',
};

/** What the front desk has open beside the board: a free time to book, or a booking. */
type Desk =
  | { kind: 'book'; time: ChosenTime }
  | { kind: 'open'; appointmentId: string; rescheduling: boolean }
  | null;

/** "2026-12-08 05:00 (10:30 Asia/Kolkata)": when, in the viewer's zone, with the doctor's own
 * wall-clock time named where its zone differs. */
export function appointmentWhen(a: BoardAppointment, viewerZone: string): string {
  if (a.doctor.timezone === viewerZone) return `${a.appointmentDate} ${a.appointmentTime}`;
  const mine = `${todayIn(viewerZone, new Date(a.startsAt))} ${formatTime(a.startsAt, viewerZone)}`;
  return `${mine} (${a.appointmentTime} ${a.doctor.timezone})`;
}

interface FeedItem {
  key: string;
  kind: string;
  at: string;
  appointment: BoardAppointment;
}

export function LiveBoard({ date, onAnnounce }: { date: string; onAnnounce: (text: string) => void }) {
  const client = useClient();
  const [state, dispatch] = useReducer(boardReducer, date, initialBoard);
  const [error, setError] = useState<string | null>(null);
  const [feed, setFeed] = useState<FeedItem[]>([]);
  const [specialty, setSpecialty] = useState('');
  const generation = useRef(0);
  const socket = useSocket();
  const socketEpoch = useRef(socket.epoch);
  socketEpoch.current = socket.epoch;
  const [loadedEpoch, setLoadedEpoch] = useState(-1);
  const doctorNames = useRef<Record<string, string>>({});
  doctorNames.current = Object.fromEntries(state.doctors.map((d) => [d.id, d.name]));
  const [desk, setDesk] = useState<Desk>(null);
  const [moving, runMove] = useMutation(RESCHEDULE_FOR);
  const [me] = useQuery({ query: ME, variables: NO_VARIABLES });
  // When things happened is told in the viewer's zone (User.timezone, the browser's until read).
  const viewerZone = me.data?.me?.timezone ?? localZone();
  const [result, setResult] = useState<DeskResult | null>(null);
  const say = (text: string) => setResult((r) => ({ text, n: (r?.n ?? 0) + 1 }));
  /** Back to the cell a closed panel was about: the cell's button, if it still has one. */
  const returnTo = (slotId: string | undefined) => {
    window.setTimeout(() => {
      const cellButton = slotId
        ? document.querySelector<HTMLButtonElement>(`[data-testid="board-cell"][data-slot-id="${slotId}"] button`)
        : null;
      (cellButton ?? document.getElementById('board-title'))?.focus();
    }, 0);
  };

  const load = useCallback(async () => {
    const mine = ++generation.current;
    const epoch = socketEpoch.current;
    const issuedAt = performance.now();
    dispatch({ type: 'loading', at: issuedAt });
    try {
      const [doctors, appointments] = await Promise.all([
        client.query(BOARD_DOCTORS, { date }, { requestPolicy: 'network-only' }).toPromise(),
        dayAppointments(client, date),
      ]);
      if (mine !== generation.current) return;
      if (doctors.error) throw doctors.error;
      dispatch({ type: 'loaded', issuedAt, doctors: doctors.data!.doctors, appointments });
      setLoadedEpoch(epoch);
      setError(null);
    } catch (caught) {
      if (mine === generation.current) setError(describeError(caught));
    }
  }, [client, date]);

  // On mount, and again each time the socket (re)connects: events sent while it was down
  // are lost.
  useEffect(() => {
    void load();
  }, [load, socket.epoch]);

  const slotStatus = useLiveEvents(
    SLOT_EVENTS,
    { date },
    {
      onEvent: ({ slotUpdates: event }) => {
        dispatch({ type: 'slot', receivedAt: performance.now(), event });
        if (event.slot.doctor.id in doctorNames.current) {
          const name = doctorNames.current[event.slot.doctor.id];
          const kind = event.kind.toLowerCase().replace('_', ' ');
          onAnnounce(`${name}, ${event.slot.startTime}: ${kind}`);
        } else if (event.kind === 'ADDED') {
          void load(); // a doctor the board does not show yet
        }
      },
      onResubscribe: () => void load(),
    },
  );

  const appointmentStatus = useLiveEvents(
    APPOINTMENT_EVENTS,
    { doctorId: null },
    {
      onEvent: ({ appointmentUpdates: event }: AppointmentEventData) => {
        dispatch({ type: 'appointment', receivedAt: performance.now(), event });
        const appointment = event.appointment;
        setFeed((items) =>
          [
            { key: `${appointment.id}-${event.at}-${event.kind}`, kind: event.kind, at: event.at, appointment },
            ...items,
          ].slice(0, FEED_LENGTH),
        );
      },
      onResubscribe: () => void load(),
    },
  );

  // The server says it may have missed events: read the day again.
  useLiveEvents(EVENTS_MISSED, NO_VARIABLES, { onEvent: () => void load() });

  const live = socket.connected && slotStatus === 'live' && appointmentStatus === 'live';
  // Ready for a test or a screen reader: drawn from a read made after the socket connected.
  const ready = state.ready && live && loadedEpoch === socket.epoch;
  const specialties = [
    ...new Map(state.doctors.map((d) => [d.specialty.id, d.specialty.name])).entries(),
  ].sort((a, b) => a[1].localeCompare(b[1]));
  const rows = state.doctors.filter((d) => !specialty || d.specialty.id === specialty);

  const choose = async (cell: Cell, booking: BoardAppointment | undefined) => {
    if (cell.state === 'BOOKED' && booking) {
      setResult(null);
      setDesk({ kind: 'open', appointmentId: booking.id, rescheduling: false });
      return;
    }
    if (desk?.kind === 'open' && desk.rescheduling) {
      const intent = `reschedule:${desk.appointmentId}:${cell.id}`;
      const result = await runMove({ id: desk.appointmentId, slotId: cell.id, idempotencyKey: intentKey(intent) });
      settleIntent(intent, result.error);
      if (result.data) {
        setDesk({ ...desk, rescheduling: false });
        const moved = result.data.rescheduleAppointment;
        say(`Moved to ${moved.appointmentDate} ${moved.appointmentTime}; ${moved.patient.name} is notified.`);
      }
      return;
    }
    setResult(null);
    const doctor = state.doctors.find((d) => d.id === cell.doctor.id);
    setDesk({
      kind: 'book',
      time: {
        slotId: cell.id,
        startTime: cell.startTime,
        endTime: cell.endTime,
        date: cell.date,
        doctorName: doctor?.name ?? '',
        timezone: doctor?.timezone ?? 'UTC',
      },
    });
  };
  const opened = desk?.kind === 'open' ? Object.values(state.bookings).find((b) => b.id === desk.appointmentId) : undefined;
  const selectedSlot = desk?.kind === 'book' ? desk.time.slotId : opened?.slot.id;

  return (
    <div className="board-layout">
      <section className="panel board" aria-labelledby="board-title">
        <header className="board-header">
          <h2 id="board-title" tabIndex={-1}>Slots on {formatDate(date)}</h2>
          <span
            className={live ? 'live-badge live' : 'live-badge'}
            data-testid="live-status"
            data-live={live}
          >
            {live ? 'Live' : 'Reconnecting…'}
          </span>
          <label>
            Specialty{' '}
            <select value={specialty} onChange={(e) => setSpecialty(e.target.value)}>
              <option value="">All</option>
              {specialties.map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => void load()}>
            Refresh
          </button>
        </header>
        <ul className="legend" aria-label="Legend">
          {Object.entries(STATE_LABEL).map(([key, label]) => (
            <li key={key} className={`cell-swatch state-${key.toLowerCase()}`}>
              {label}
            </li>
          ))}
        </ul>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <div data-testid="admin-board" data-date={date} data-ready={ready} aria-busy={!state.ready}>
          {!state.ready && !error && <p className="muted">Loading the board…</p>}
          {state.ready && rows.length === 0 && <p className="muted">No active doctors.</p>}
          {rows.map((doctor) => {
            const cells = cellsOf(state, doctor.id);
            const counts = cells.reduce<Record<string, number>>(
              (acc, c) => ({ ...acc, [c.state]: (acc[c.state] ?? 0) + 1 }),
              {},
            );
            return (
              <section
                key={doctor.id}
                className="board-row"
                data-testid="board-row"
                data-doctor-id={doctor.id}
                aria-labelledby={`row-${doctor.id}`}
              >
                <h3 id={`row-${doctor.id}`} className="board-doctor">
                  {doctor.name}
                  <span className="muted">
                    {' '}
                    {doctor.specialty.name} · times in {zoneLabel(doctor.timezone)}
                  </span>
                </h3>
                <p className="board-counts muted">
                  {cells.length === 0
                    ? 'No slots this day.'
                    : `${cells.length} slots: ${counts.BOOKED ?? 0} booked, ${counts.LOCKED ?? 0} held, ${counts.AVAILABLE ?? 0} free`}
                </p>
                {cells.length > 0 && (
                  <ul className="board-cells">
                    {cells.map((cell) => (
                      <BoardCell
                        // A new key per change replays the highlight animation.
                        key={`${cell.id}-${cell.lastAt ?? ''}`}
                        cell={cell}
                        booking={state.bookings[cell.id]}
                        zone={doctor.timezone}
                        selected={cell.id === selectedSlot}
                        onChoose={(c, b) => void choose(c, b)}
                      />
                    ))}
                  </ul>
                )}
              </section>
            );
          })}
        </div>
      </section>
      <div className="board-side">
      {desk?.kind === 'book' && (
        <BookForPanel
          key={desk.time.slotId}
          time={desk.time}
          onBooked={(id, patientName) => {
            setDesk({ kind: 'open', appointmentId: id, rescheduling: false });
            say(`Booked ${desk.time.startTime} for ${patientName}.`);
          }}
          onClose={() => {
            setDesk(null);
            returnTo(desk.time.slotId);
          }}
        />
      )}
      {desk?.kind === 'open' && (
        <>
          <AppointmentPanel
            key={desk.appointmentId}
            appointmentId={desk.appointmentId}
            version={opened ? `${opened.status}|${opened.slot.id}|${opened.checkedInAt ?? ''}` : 'gone'}
            rescheduling={desk.rescheduling}
            result={result}
            viewerZone={viewerZone}
            onResult={say}
            onReschedule={(on) => setDesk({ ...desk, rescheduling: on })}
            onClose={() => {
              setDesk(null);
              setResult(null);
              returnTo(opened?.slot.id);
            }}
          />
          <FormError error={moving.error} />
        </>
      )}
      <section className="panel feed" aria-labelledby="feed-title">
        <h2 id="feed-title">Appointment events</h2>
        <p className="muted feed-zone" data-testid="feed-zone" data-zone={viewerZone}>
          Times in {zoneLabel(viewerZone)}, your zone
        </p>
        <div role="log" aria-live="polite">
        <ol data-testid="appointment-feed" className="feed-list">
          {feed.length === 0 && <li className="muted">No events since this page was opened.</li>}
          {feed.map((item) => {
            const a = item.appointment;
            return (
              <li
                key={item.key}
                data-testid="feed-item"
                data-kind={item.kind}
                data-appointment-id={a.id}
                data-status={a.status}
              >
                <time dateTime={item.at}>{clockIn(item.at, viewerZone, true)}</time>{' '}
                <strong>{a.patient.name}</strong> {EVENT_LABEL[item.kind] ?? item.kind.toLowerCase()}{' '}
                {a.doctor.name}, <span data-testid="feed-when">{appointmentWhen(a, viewerZone)}</span>:{' '}
                <span className={`status status-${a.status.toLowerCase()}`}>{a.status}</span>
              </li>
            );
          })}
        </ol>
        </div>
      </section>
      </div>
    </div>
  );
}
