// The doctor's view (#/doctor): the signed-in doctor's appointments for a day, in its own
// timezone, with confirm / start / complete / no-show, kept live by `appointmentUpdates`,
// and emergency requests as an alert to acknowledge.
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { useClient, useQuery } from 'urql';
import { dayAppointments } from '../admin/appointments';
import { addDays, formatDate, todayIn, zoneLabel } from '../lib/time';
import { EmergencyAlerts } from '../admin/EmergencyAlerts';
import { useLiveEvents } from '../admin/live';
import { useSocket } from '../lib/live';
import {
  APPOINTMENT_EVENTS,
  EVENTS_MISSED,
  ME,
  type Me,
} from '../admin/operations';
import { useAnnounce } from '../lib/announce';
import { describeError } from '../lib/errors';
import '../admin/admin.css';
import { AppointmentRow } from './AppointmentRow';
import { dayReducer, initialDay, ordered } from './dayState';

const NO_VARIABLES = {};

const EVENT_TEXT: Record<string, string> = {
  CREATED: 'new booking',
  CONFIRMED: 'confirmed',
  CANCELLED: 'cancelled',
  STATUS_CHANGED: 'status changed',
  RESCHEDULED: 'rescheduled',
  CHECKED_IN: 'arrived',
};

function Day({ doctor, date, onAnnounce }: { doctor: NonNullable<Me['doctor']>; date: string; onAnnounce: (text: string) => void }) {
  const client = useClient();
  const [state, dispatch] = useReducer(dayReducer, { date, doctorId: doctor.id }, initialDay);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const socket = useSocket();
  const socketEpoch = useRef(socket.epoch);
  socketEpoch.current = socket.epoch;
  const [loadedEpoch, setLoadedEpoch] = useState(-1);

  const load = useCallback(async () => {
    const mine = ++generation.current;
    const epoch = socketEpoch.current;
    const issuedAt = performance.now();
    dispatch({ type: 'loading', at: issuedAt });
    try {
      const appointments = await dayAppointments(client, date, doctor.id);
      if (mine !== generation.current) return;
      dispatch({ type: 'loaded', issuedAt, appointments });
      setLoadedEpoch(epoch);
      setError(null);
    } catch (caught) {
      if (mine === generation.current) setError(describeError(caught));
    }
  }, [client, date, doctor.id]);

  // On mount, and again each time the socket (re)connects: events sent while it was down
  // are lost.
  useEffect(() => {
    void load();
  }, [load, socket.epoch]);

  const status = useLiveEvents(
    APPOINTMENT_EVENTS,
    { doctorId: doctor.id },
    {
      onEvent: ({ appointmentUpdates: event }) => {
        dispatch({ type: 'event', receivedAt: performance.now(), event });
        const a = event.appointment;
        if (a.appointmentDate === date) {
          onAnnounce(`${a.patient.name}, ${a.appointmentTime}: ${EVENT_TEXT[event.kind] ?? event.kind.toLowerCase()}`);
        }
      },
      onResubscribe: () => void load(),
    },
  );

  // The server says it may have missed events: read the day again.
  useLiveEvents(EVENTS_MISSED, NO_VARIABLES, { onEvent: () => void load() });

  const live = socket.connected && status === 'live';
  const ready = state.ready && live && loadedEpoch === socket.epoch;
  const list = ordered(state);
  const active = list.filter((a) => a.status !== 'CANCELLED');
  const waiting = active.filter((a) => a.checkedInAt && (a.status === 'SCHEDULED' || a.status === 'CONFIRMED'));
  return (
    <section className="panel" aria-labelledby="day-title">
      <header className="board-header">
        <h2 id="day-title">{formatDate(date)}</h2>
        <span className={live ? 'live-badge live' : 'live-badge'} data-testid="live-status" data-live={live}>
          {live ? 'Live' : 'Reconnecting…'}
        </span>
        <span className="muted">
          {active.length} appointment{active.length === 1 ? '' : 's'} · times in {zoneLabel(doctor.timezone)}
        </span>
        <span className="muted" data-testid="waiting-count">
          {waiting.length} arrived and waiting
        </span>
      </header>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <ol className="doctor-day" data-testid="doctor-day" data-date={date} data-ready={ready} aria-busy={!state.ready}>
        {!state.ready && !error && <li className="muted">Loading…</li>}
        {state.ready && list.length === 0 && <li className="muted">No appointments this day.</li>}
        {list.map((a) => (
          <AppointmentRow
            key={a.id}
            appointment={a}
            timezone={doctor.timezone}
            onChanged={(changed) => dispatch({ type: 'changed', appointment: changed })}
            onAnnounce={onAnnounce}
          />
        ))}
      </ol>
    </section>
  );
}

export default function DoctorDay() {
  const [me] = useQuery({ query: ME, variables: NO_VARIABLES, requestPolicy: 'network-only' });
  const doctor = me.data?.me?.doctor ?? null;
  const [date, setDate] = useState<string | null>(null);
  const say = useAnnounce();
  const announce = useCallback((text: string) => say(text), [say]);
  const day = date ?? (doctor ? todayIn(doctor.timezone) : null);

  if (me.error) {
    return (
      <p role="alert" className="error">
        {describeError(me.error)}
      </p>
    );
  }
  if (!me.data) return <p className="muted">Loading…</p>;
  if (!doctor || !day) {
    return (
      <div className="admin-view">
        <p role="alert">The doctor&apos;s day is for doctors. Sign in with a doctor&apos;s account.</p>
      </div>
    );
  }

  return (
    <div className="admin-view doctor-view" data-testid="doctor-view">
      <div className="admin-toolbar">
        <h1>
          {doctor.name} <span className="muted">{doctor.specialty.name}</span>
        </h1>
      </div>
      <div className="date-bar">
        <button type="button" onClick={() => setDate(addDays(day, -1))} aria-label="Previous day">
          ‹
        </button>
        <label>
          Date{' '}
          <input type="date" name="doctor-date" value={day} required onChange={(e) => e.target.value && setDate(e.target.value)} />
        </label>
        <button type="button" onClick={() => setDate(addDays(day, 1))} aria-label="Next day">
          ›
        </button>
        <button type="button" onClick={() => setDate(todayIn(doctor.timezone))}>
          Today
        </button>
      </div>
      <Day key={day} doctor={doctor} date={day} onAnnounce={announce} />
      <EmergencyAlerts />
    </div>
  );
}
