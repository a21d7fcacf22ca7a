// One appointment of the doctor's day: who, when, why, whether they have arrived, and the
// moves the contract allows. Marking a no-show or completing a visit is asked twice (neither
// is lightly undone; a no-show can be undone for 24 hours), and the focus stays on the row
// acted on.
import { useEffect, useRef, useState } from 'react';
import { useMutation } from 'urql';
import { CHECK_IN_VISIT, UPDATE_STATUS, type AppointmentStatus, type BoardAppointment } from '../admin/operations';
import { clockIn, noShowUndoOpen } from '../admin/dates';
import { describeError } from '../lib/errors';
import { useNow } from '../lib/time';

export const STATUS_LABEL: Record<AppointmentStatus, string> = {
  SCHEDULED: 'Scheduled',
  CONFIRMED: 'Confirmed',
  IN_PROGRESS: 'In progress',
  COMPLETED: 'Completed',
  CANCELLED: 'Cancelled',
  NO_SHOW: 'No-show',
};

interface Action {
  to: AppointmentStatus;
  label: string;
  /** The question asked before a move that is not lightly undone. */
  confirm?: string;
}

/** The moves the contract allows a doctor from each status. */
const ACTIONS: Partial<Record<AppointmentStatus, Action[]>> = {
  SCHEDULED: [
    { to: 'CONFIRMED', label: 'Confirm' },
    { to: 'NO_SHOW', label: 'No-show', confirm: 'Mark as a no-show? The patient is told they missed it.' },
  ],
  CONFIRMED: [
    { to: 'IN_PROGRESS', label: 'Start' },
    { to: 'NO_SHOW', label: 'No-show', confirm: 'Mark as a no-show? The patient is told they missed it.' },
  ],
  IN_PROGRESS: [{ to: 'COMPLETED', label: 'Complete', confirm: 'Complete the visit? It cannot be reopened.' }],
  // The patient turned up after all: back to confirmed, then started as usual.
  NO_SHOW: [{ to: 'CONFIRMED', label: 'Undo no-show' }],
};

export function AppointmentRow({
  appointment,
  timezone,
  onChanged,
  onAnnounce,
}: {
  appointment: BoardAppointment;
  timezone: string;
  onChanged: (appointment: BoardAppointment) => void;
  onAnnounce: (text: string) => void;
}) {
  const [update, run] = useMutation(UPDATE_STATUS);
  const [checkIn, runCheckIn] = useMutation(CHECK_IN_VISIT);
  const [notes, setNotes] = useState(appointment.notes ?? '');
  const [asking, setAsking] = useState<Action | null>(null);
  const row = useRef<HTMLLIElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const now = useNow(30_000);
  const who = appointment.patient.name;
  const arrived = appointment.checkedInAt;
  const started = Date.parse(appointment.startsAt) <= now;
  // A no-show is offered only once the time has come and the patient has not arrived.
  const undoOpen = noShowUndoOpen(appointment.noShowAt, now);
  const actions = (ACTIONS[appointment.status] ?? []).filter((a) =>
    a.to === 'NO_SHOW' ? started && !arrived : appointment.status !== 'NO_SHOW' || undoOpen,
  );
  const canCheckIn = (appointment.status === 'SCHEDULED' || appointment.status === 'CONFIRMED') && !arrived;

  useEffect(() => {
    if (asking) confirmButton.current?.focus();
  }, [asking]);

  const move = async (action: Action) => {
    setAsking(null);
    const result = await run({
      id: appointment.id,
      status: action.to,
      notes: action.to === 'COMPLETED' && notes.trim() ? notes.trim() : null,
    });
    row.current?.focus();
    if (result.data) {
      onChanged(result.data.updateAppointmentStatus);
      const done = appointment.status === 'NO_SHOW' ? 'no-show undone' : STATUS_LABEL[action.to].toLowerCase();
      onAnnounce(`${who}, ${appointment.appointmentTime}: ${done}`);
    }
  };

  const arrive = async () => {
    const result = await runCheckIn({ id: appointment.id });
    row.current?.focus();
    if (result.data) {
      onChanged(result.data.checkInAppointment);
      onAnnounce(`${who} has arrived`);
    }
  };

  const error = update.error ?? checkIn.error;
  return (
    <li
      ref={row}
      tabIndex={-1}
      className={`doctor-appointment appointment-${appointment.status.toLowerCase()}`}
      data-testid="doctor-appointment"
      data-appointment-id={appointment.id}
      data-status={appointment.status}
      data-arrived={arrived ? 'true' : 'false'}
      aria-label={`${appointment.appointmentTime} ${who}`}
    >
      <div className="appointment-time">
        <strong>
          {appointment.appointmentTime}–{appointment.endTime}
        </strong>
        <span className="muted"> {timezone}</span>
      </div>
      <div className="appointment-who">
        <strong>{who}</strong>
        <span className="muted"> {appointment.patient.phone ?? appointment.patient.email ?? ''}</span>
        {arrived && (
          <span className="tag arrived" data-testid="arrived">
            Arrived {clockIn(arrived, timezone)}
          </span>
        )}
        {appointment.reasonForVisit && <p className="reason">Reason: {appointment.reasonForVisit}</p>}
        {appointment.notes && appointment.status === 'COMPLETED' && <p className="reason">Notes: {appointment.notes}</p>}
      </div>
      <span className={`status status-${appointment.status.toLowerCase()}`} data-testid="appointment-status">
        {STATUS_LABEL[appointment.status]}
      </span>
      {appointment.status === 'IN_PROGRESS' && (
        <label className="notes">
          Notes (optional)
          <textarea rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} />
        </label>
      )}
      {asking ? (
        <div className="row-actions confirm-move" role="group" aria-label={`${asking.label}: ${who}`}>
          <span>{asking.confirm}</span>
          <button ref={confirmButton} type="button" className="primary" disabled={update.fetching} onClick={() => void move(asking)}>
            Yes, {asking.label.toLowerCase()}
          </button>
          <button
            type="button"
            onClick={() => {
              setAsking(null);
              row.current?.focus();
            }}
          >
            Back
          </button>
        </div>
      ) : (
        (actions.length > 0 || canCheckIn) && (
          <div className="row-actions">
            {canCheckIn && (
              <button type="button" disabled={checkIn.fetching} onClick={() => void arrive()} aria-label={`Check in: ${who} at ${appointment.appointmentTime}`}>
                Check in
              </button>
            )}
            {actions.map((action) => (
              <button
                key={action.to}
                type="button"
                className={action.to === 'NO_SHOW' ? '' : 'primary'}
                disabled={update.fetching}
                onClick={() => (action.confirm ? setAsking(action) : void move(action))}
                aria-label={`${action.label}: ${who} at ${appointment.appointmentTime}`}
                data-action={action.to}
              >
                {action.label}
              </button>
            ))}
          </div>
        )
      )}
      {error && (
        <p role="alert" className="error">
          {describeError(error, { timeZone: timezone })}
        </p>
      )}
    </li>
  );
}
