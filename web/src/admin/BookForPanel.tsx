// A free time chosen on the board: pick (or register) the patient, hold the time for them,
// then book it with a reason. Closing before booking lets go of the hold.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { finishIntent, intentKey, settleIntent } from '../lib/idempotency';
import { clockIn } from './dates';
import { FormError } from './forms';
import { BOOK_FOR, HOLD_FOR, RELEASE_HOLD, type PatientHit } from './frontDesk';
import { PatientPicker } from './PatientPicker';

export interface ChosenTime {
  slotId: string;
  startTime: string;
  endTime: string;
  date: string;
  doctorName: string;
  timezone: string;
}

export function BookForPanel({
  time,
  onBooked,
  onClose,
}: {
  time: ChosenTime;
  onBooked: (appointmentId: string, patientName: string) => void;
  onClose: () => void;
}) {
  const [patient, setPatient] = useState<PatientHit | null>(null);
  const [heldUntil, setHeldUntil] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [hold, runHold] = useMutation(HOLD_FOR);
  const [booking, runBook] = useMutation(BOOK_FOR);
  const [, release] = useMutation(RELEASE_HOLD);
  const held = useRef(false);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => heading.current?.focus(), []);
  // A hold the desk walked away from is given back at once rather than left to expire.
  useEffect(
    () => () => {
      if (held.current) void release({ slotId: time.slotId });
    },
    [release, time.slotId],
  );

  const choose = async (chosen: PatientHit) => {
    setPatient(chosen);
    const intent = `hold:${time.slotId}:${chosen.id}`;
    const result = await runHold({ slotId: time.slotId, patientId: chosen.id, idempotencyKey: intentKey(intent) });
    settleIntent(intent, result.error);
    if (result.data) {
      held.current = true;
      setHeldUntil(result.data.lockSlot.lock?.expiresAt ?? null);
    }
  };

  const book = async (event: FormEvent) => {
    event.preventDefault();
    if (!patient) return;
    const intent = `book:${time.slotId}:${patient.id}`;
    const result = await runBook({
      input: {
        slotId: time.slotId,
        patientId: patient.id,
        reasonForVisit: reason.trim() || null,
        idempotencyKey: intentKey(intent),
      },
    });
    settleIntent(intent, result.error);
    if (result.data) {
      held.current = false;
      finishIntent(`hold:${time.slotId}:${patient.id}`);
      onBooked(result.data.bookAppointment.id, patient.name);
    }
  };

  return (
    <section className="panel desk-panel" data-testid="book-for-panel" data-slot-id={time.slotId} aria-labelledby="book-for-title">
      <h2 id="book-for-title" tabIndex={-1} ref={heading}>
        Book {time.startTime}–{time.endTime} with {time.doctorName}
      </h2>
      <p className="muted">
        {time.date}, times in {time.timezone}
      </p>
      {!patient && <PatientPicker onPick={(p) => void choose(p)} />}
      {patient && (
        <form onSubmit={book} className="desk-book">
          <p data-testid="chosen-patient">
            For <strong>{patient.name}</strong>
            {patient.phone && <span className="muted"> {patient.phone}</span>}{' '}
            <button
              type="button"
              onClick={() => {
                if (held.current) void release({ slotId: time.slotId });
                held.current = false;
                setHeldUntil(null);
                setPatient(null);
              }}
            >
              Change patient
            </button>
          </p>
          {heldUntil && (
            <p className="muted" data-testid="held-until">
              Held for them until {clockIn(heldUntil, time.timezone)}
            </p>
          )}
          <FormError error={hold.error} />
          <label>
            Reason for the visit
            <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
          </label>
          <FormError error={booking.error} />
          <button type="submit" className="primary" disabled={booking.fetching || hold.fetching || !!hold.error}>
            Book for {patient.name}
          </button>
        </form>
      )}
      <button type="button" onClick={onClose}>
        Close
      </button>
    </section>
  );
}
