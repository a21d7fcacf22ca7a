// Asked before a day off (or shorter one-day hours) is applied to a day with bookings: which
// appointments would fall outside the doctor's hours, with each patient's phone to call, a
// "cancel and notify" per appointment, then the admin confirms the change or goes back.
// (Applied as it was, the bookings would be kept and the patients left to be told by hand.)
import { useEffect, useRef, useState } from 'react';
import { useMutation } from 'urql';
import { intentKey, settleIntent } from '../lib/idempotency';
import { formatDate } from '../lib/time';
import { FormError } from './forms';
import { CANCEL_AND_NOTIFY, type AffectedAppointment } from './frontDesk';
import type { TimeRange } from './operations';

/** The appointments that do not fit wholly inside one of the day's new ranges. */
export function outsideHours(appointments: AffectedAppointment[], ranges: TimeRange[]): AffectedAppointment[] {
  return appointments
    .filter((a) => !ranges.some((r) => r.start <= a.appointmentTime && a.endTime <= r.end))
    .sort((a, b) => a.appointmentTime.localeCompare(b.appointmentTime));
}

export function DayOffCheck({
  doctorName,
  date,
  dayOff,
  appointments,
  reason,
  applying,
  onConfirm,
  onBack,
}: {
  doctorName: string;
  date: string;
  dayOff: boolean;
  appointments: AffectedAppointment[];
  /** The day off's reason, if given: also what the patients are told. */
  reason: string;
  applying: boolean;
  onConfirm: () => void;
  onBack: () => void;
}) {
  const [cancelled, setCancelled] = useState<Record<string, true>>({});
  const [acting, setActing] = useState<string | null>(null);
  const [cancel, runCancel] = useMutation(CANCEL_AND_NOTIFY);
  const heading = useRef<HTMLHeadingElement>(null);
  const rows = useRef<Record<string, HTMLLIElement | null>>({});
  const toldReason = reason.trim() || `${doctorName} is not available on ${formatDate(date)}`;
  const left = appointments.filter((a) => !cancelled[a.id]).length;

  useEffect(() => heading.current?.focus(), []);

  const cancelOne = async (a: AffectedAppointment) => {
    setActing(a.id);
    const intent = `cancel:${a.id}`;
    const result = await runCancel({ id: a.id, reason: toldReason, idempotencyKey: intentKey(intent) });
    settleIntent(intent, result.error);
    setActing(null);
    if (result.data) setCancelled((c) => ({ ...c, [a.id]: true }));
    // The row acted on keeps the focus (its button is gone once cancelled).
    rows.current[a.id]?.focus();
  };

  return (
    <section className="day-off-check notice" data-testid="day-off-check" aria-labelledby="day-off-check-title">
      <h4 id="day-off-check-title" tabIndex={-1} ref={heading}>
        {appointments.length} booked appointment{appointments.length === 1 ? '' : 's'} on {formatDate(date)}{' '}
        {dayOff ? 'with a day off' : 'outside those hours'}
      </h4>
      <p>
        Call the patients, or cancel here and they are notified with the reason “{toldReason}”. Appointments
        not cancelled are kept.
      </p>
      <ul className="managed-list" data-testid="affected-list">
        {appointments.map((a) => (
          <li
            key={a.id}
            ref={(el) => {
              rows.current[a.id] = el;
            }}
            tabIndex={-1}
            className="row-line"
            data-testid="affected-appointment"
            data-appointment-id={a.id}
            data-cancelled={cancelled[a.id] ? 'true' : 'false'}
          >
            <span>
              <strong>
                {a.appointmentTime}–{a.endTime}
              </strong>{' '}
              {a.patient.name}{' '}
              {a.patient.phone ? (
                <a href={`tel:${a.patient.phone.replace(/\s/g, '')}`} data-testid="affected-phone">
                  {a.patient.phone}
                </a>
              ) : (
                <span className="muted">{a.patient.email ?? 'no phone'}</span>
              )}
              {a.reasonForVisit && <span className="muted"> ({a.reasonForVisit})</span>}
            </span>
            {cancelled[a.id] ? (
              <span className="status status-cancelled">Cancelled, patient notified</span>
            ) : (
              <button type="button" className="danger" disabled={acting !== null} onClick={() => void cancelOne(a)}>
                Cancel and notify<span className="sr-only"> {a.patient.name} at {a.appointmentTime}</span>
              </button>
            )}
          </li>
        ))}
      </ul>
      <FormError error={cancel.error} />
      <div className="row-actions">
        <button type="button" className="primary" disabled={applying || acting !== null} onClick={onConfirm}>
          {dayOff ? 'Confirm day off' : 'Confirm these hours'}
          {left > 0 && <span className="sr-only"> and keep {left} booking{left === 1 ? '' : 's'}</span>}
        </button>
        <button type="button" onClick={onBack}>
          Go back
        </button>
      </div>
    </section>
  );
}
