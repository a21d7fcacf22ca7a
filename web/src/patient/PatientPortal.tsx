/** The patient portal: find a doctor, pick a day and a time, hold it, book it, and manage the
 * appointments, all live. Deep link: `#/patient?doctor=<id>&date=<YYYY-MM-DD>`. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useMutation, useQuery, useSubscription, type CombinedError } from 'urql';
import { useAnnounce } from '../lib/announce';
import { useAuth } from '../lib/auth';
import { describeError, errorCode } from '../lib/errors';
import { intentKey, settleIntent } from '../lib/idempotency';
import { navigate, readPatientLink, useRoute } from '../lib/routes';
import { addDays, todayIn } from '../lib/time';
import Calendar from './Calendar';
import { shortDate } from './dates';
import DayGrid, { type LiveCount } from './DayGrid';
import DoctorPicker from './DoctorPicker';
import Emergency from './Emergency';
import Holds from './Holds';
import MyAppointments from './MyAppointments';
import {
  BOOK,
  CANCEL,
  DOCTOR,
  EVENTS_MISSED,
  LOCK_SLOT,
  MY_LOCKS,
  RESCHEDULE,
  UNLOCK_SLOT,
  type Appointment,
  type DoctorSummary,
  type HeldSlot,
  type Slot,
} from './operations';
import type { CellState } from './slotState';
import './patient.css';

interface Notice {
  tone: 'error' | 'info' | 'success';
  text: string;
  code?: string;
}

function errorNotice(error: CombinedError, timeZone?: string): Notice {
  return { tone: 'error', text: describeError(error, { timeZone }), code: errorCode(error) };
}

/** The deep link's selection, written back without a history entry. */
interface Selection {
  doctor: string | null;
  date: string | null;
}

function useSelection(): [Selection, (next: Selection) => void] {
  const link = readPatientLink(useRoute().params);
  const selection = useMemo(
    () => ({ doctor: link.doctorId ?? null, date: link.date ?? null }),
    [link.doctorId, link.date],
  );
  const select = useCallback((next: Selection) => {
    navigate(
      'patient',
      { doctor: next.doctor, date: next.doctor ? next.date : null },
      { replace: true },
    );
  }, []);
  return [selection, select];
}

export default function PatientPortal() {
  const { role } = useAuth();
  const isPatient = role === 'PATIENT';
  const [route, setRoute] = useSelection();
  const [picked, setPicked] = useState<DoctorSummary | null>(null);
  // A deep link's day grid is the page's purpose: its one query goes first, alone, and the
  // rest (doctor lists, holds, appointments) follow once it is drawn (bench B9's < 1 s).
  const [gridDrawn, setGridDrawn] = useState(false);
  const later = !!route.doctor && !!route.date && !gridDrawn;
  useEffect(() => {
    if (!later) return;
    const timer = window.setTimeout(() => setGridDrawn(true), 3000); // never wait for ever
    return () => window.clearTimeout(timer);
  }, [later]);
  const [doctorQuery] = useQuery<{ doctor: DoctorSummary | null }>({
    query: DOCTOR,
    variables: { id: route.doctor ?? '' },
    pause: later || !route.doctor || picked?.id === route.doctor,
  });
  const doctor =
    picked && picked.id === route.doctor
      ? picked
      : route.doctor
        ? (doctorQuery.data?.doctor ?? null)
        : null;
  const [specialtyId, setSpecialtyId] = useState('');
  // A deep-linked doctor brings its specialty into the picker, once per doctor (so the patient
  // can still widen the list to all specialties afterwards).
  const doctorSpecialty = doctor?.specialty.id;
  useEffect(() => {
    if (doctorSpecialty) setSpecialtyId((current) => current || doctorSpecialty);
  }, [doctor?.id, doctorSpecialty]);

  const today = doctor ? todayIn(doctor.timezone) : '';
  const date = route.date ?? today;
  const [calFrom, setCalFrom] = useState<string | null>(null);
  const from =
    calFrom ??
    (date && today && date > today
      ? addDays(today, Math.floor((Date.parse(date) - Date.parse(today)) / 86_400_000 / 28) * 28)
      : today);

  const [notice, setNotice] = useState<Notice | null>(null);
  const say = useAnnounce();

  // Holds: restored from myLocks after a reload, then kept here as locks are taken and ended.
  const [holds, setHolds] = useState<HeldSlot[]>([]);
  const [locks] = useQuery<{ myLocks: HeldSlot[] }>({
    query: MY_LOCKS,
    pause: later || !isPatient,
    requestPolicy: 'network-only',
  });
  useEffect(() => {
    if (locks.data) setHolds(locks.data.myLocks);
  }, [locks.data]);
  const dropHold = useCallback((slotId: string) => {
    setHolds((all) => all.filter((h) => h.id !== slotId));
  }, []);

  // One eventsMissed subscription for the page; each notice re-reads the grid and the list.
  const [{ data: missed = 0 }] = useSubscription<unknown, number>(
    { query: EVENTS_MISSED, pause: !role },
    (count = 0) => count + 1,
  );

  const [busy, setBusy] = useState<string | null>(null);
  const [focusHold, setFocusHold] = useState<string | null>(null);
  // The open day's bookable count as the live grid sees it, shown in the calendar at once.
  const [liveCount, setLiveCount] = useState<LiveCount | null>(null);
  const [rescheduling, setRescheduling] = useState<Appointment | null>(null);
  const [move, setMove] = useState<Slot | null>(null);
  const [, lockSlot] = useMutation(LOCK_SLOT);
  const [, unlockSlot] = useMutation(UNLOCK_SLOT);
  const [, book] = useMutation(BOOK);
  const [, cancel] = useMutation(CANCEL);
  const [, reschedule] = useMutation(RESCHEDULE);

  const chooseDoctor = useCallback(
    (d: DoctorSummary) => {
      setPicked(d);
      setCalFrom(null);
      setRoute({ doctor: d.id, date: route.date && route.doctor === d.id ? route.date : null });
    },
    [route, setRoute],
  );
  const chooseDate = useCallback(
    (day: string) => setRoute({ doctor: route.doctor, date: day }),
    [route.doctor, setRoute],
  );

  const onPick = useCallback(
    async (slot: Slot, _state: CellState, doctor: DoctorSummary) => {
      if (!isPatient) {
        setNotice({ tone: 'info', text: 'Sign in as a patient to book a time.' });
        return;
      }
      if (rescheduling) {
        setMove(slot);
        return;
      }
      const intent = `lock:${slot.id}`;
      setBusy(slot.id);
      const result = await lockSlot({ slotId: slot.id, idempotencyKey: intentKey(intent) });
      setBusy(null);
      settleIntent(intent, result.error);
      if (result.error || !result.data) {
        if (result.error) setNotice(errorNotice(result.error, doctor?.timezone));
        return;
      }
      const locked: Slot = result.data.lockSlot;
      const held: HeldSlot = {
        ...locked,
        doctor: {
          id: doctor.id,
          name: doctor.name,
          timezone: doctor.timezone,
          specialty: doctor.specialty,
        },
      };
      setHolds((all) => [...all.filter((h) => h.id !== held.id), held]);
      setFocusHold(held.id);
      setNotice({
        tone: 'info',
        text: `${held.startTime} on ${shortDate(held.date)} is held for you. Confirm it below before the countdown ends.`,
      });
    },
    [isPatient, rescheduling, lockSlot],
  );

  const onBook = useCallback(
    async (hold: HeldSlot, reason: string) => {
      const intent = `book:${hold.id}`;
      setBusy(hold.id);
      const result = await book({
        input: {
          slotId: hold.id,
          doctorId: hold.doctor.id,
          reasonForVisit: reason || null,
          idempotencyKey: intentKey(intent),
        },
      });
      setBusy(null);
      settleIntent(intent, result.error);
      if (result.error) {
        setNotice(errorNotice(result.error, hold.doctor.timezone));
        const code = errorCode(result.error);
        if (code === 'SLOT_ALREADY_BOOKED' || code === 'SLOT_UNAVAILABLE') dropHold(hold.id);
        return;
      }
      dropHold(hold.id);
      setNotice({
        tone: 'success',
        text: `Booked: ${shortDate(hold.date)} at ${hold.startTime} with ${hold.doctor.name}.`,
      });
    },
    [book, dropHold],
  );

  const onRelease = useCallback(
    async (hold: HeldSlot) => {
      setBusy(hold.id);
      const result = await unlockSlot({ slotId: hold.id });
      setBusy(null);
      if (result.error) {
        setNotice(errorNotice(result.error, hold.doctor.timezone));
        return;
      }
      dropHold(hold.id);
      setNotice({ tone: 'info', text: `Released ${hold.startTime}; others may book it now.` });
    },
    [unlockSlot, dropHold],
  );

  const onExpired = useCallback(
    (hold: HeldSlot) => {
      dropHold(hold.id);
      setNotice({
        tone: 'info',
        text: `Your hold on ${hold.startTime} (${shortDate(hold.date)}) ran out; pick the time again to book it.`,
      });
    },
    [dropHold],
  );

  const onCancel = useCallback(
    async (a: Appointment, reason: string) => {
      const intent = `cancel:${a.id}`;
      setBusy(a.id);
      const result = await cancel({
        id: a.id,
        reason: reason || null,
        idempotencyKey: intentKey(intent),
      });
      setBusy(null);
      settleIntent(intent, result.error);
      if (result.error) {
        setNotice(errorNotice(result.error, a.doctor.timezone));
        return;
      }
      if (rescheduling?.id === a.id) setRescheduling(null);
      setNotice({
        tone: 'success',
        text: `Cancelled the ${a.appointmentTime} appointment with ${a.doctor.name}.`,
      });
    },
    [cancel, rescheduling],
  );

  const onReschedule = useCallback(
    (a: Appointment) => {
      if (rescheduling?.id === a.id) {
        setRescheduling(null);
        setMove(null);
        return;
      }
      setRescheduling(a);
      setMove(null);
      setSpecialtyId(a.doctor.specialty.id);
      setCalFrom(null);
      setRoute({ doctor: a.doctor.id, date: a.appointmentDate });
      setNotice({
        tone: 'info',
        text: `Pick a new time for your ${a.appointmentTime} appointment (any ${a.doctor.specialty.name} doctor).`,
      });
    },
    [rescheduling, setRoute],
  );

  const confirmMove = useCallback(async () => {
    if (!rescheduling || !move) return;
    const intent = `move:${rescheduling.id}:${move.id}`;
    setBusy(move.id);
    const result = await reschedule({
      id: rescheduling.id,
      slotId: move.id,
      idempotencyKey: intentKey(intent),
    });
    setBusy(null);
    settleIntent(intent, result.error);
    if (result.error) {
      setNotice(errorNotice(result.error, doctor?.timezone));
      return;
    }
    dropHold(move.id);
    setNotice({
      tone: 'success',
      text: `Moved to ${shortDate(move.date)} at ${move.startTime}.`,
    });
    setRescheduling(null);
    setMove(null);
  }, [rescheduling, move, reschedule, dropHold, doctor]);

  // Errors speak through their own role="alert"; other notices through the shared announcer.
  useEffect(() => {
    if (notice && notice.tone !== 'error') say(notice.text);
  }, [notice, say]);

  const specialtyLocked = useMemo(() => rescheduling?.doctor.specialty.id ?? null, [rescheduling]);

  return (
    <div className="pp" data-testid="patient-portal">
      <h1 className="pp-title">Book an appointment</h1>
      {notice && (
        <div
          className={`pp-notice pp-notice-${notice.tone}`}
          role={notice.tone === 'error' ? 'alert' : undefined}
          data-testid="patient-notice"
          data-tone={notice.tone}
          data-code={notice.code ?? ''}
        >
          <span>{notice.text}</span>
          <button
            type="button"
            className="pp-link"
            onClick={() => setNotice(null)}
            aria-label="Dismiss message"
          >
            ×
          </button>
        </div>
      )}
      {rescheduling && (
        <div
          className="pp-banner"
          role="region"
          aria-label="Rescheduling"
          data-testid="reschedule-banner"
        >
          <p>
            Moving your appointment of {shortDate(rescheduling.appointmentDate)} at{' '}
            {rescheduling.appointmentTime} with {rescheduling.doctor.name}.{' '}
            {move
              ? `New time: ${shortDate(move.date)} at ${move.startTime}${doctor ? ` with ${doctor.name}` : ''}.`
              : 'Pick a new time in the day grid.'}
          </p>
          <div className="pp-actions">
            {move && (
              <button
                type="button"
                className="pp-primary"
                disabled={busy !== null}
                onClick={confirmMove}
              >
                Move it here
              </button>
            )}
            <button
              type="button"
              onClick={() => {
                setRescheduling(null);
                setMove(null);
              }}
            >
              Stop rescheduling
            </button>
          </div>
        </div>
      )}
      <div className="pp-layout">
        <div className="pp-col">
          <div className="pp-area-find">
            <DoctorPicker
              later={later}
              specialtyId={specialtyLocked ?? specialtyId}
              doctorId={doctor?.id ?? route.doctor}
              onSpecialty={(id) => {
                if (!specialtyLocked) setSpecialtyId(id);
              }}
              onDoctor={chooseDoctor}
              specialtyFixed={!!specialtyLocked}
            />
            {route.doctor && doctorQuery.data && !doctorQuery.data.doctor && (
              <p role="alert" className="pp-error">
                That doctor was not found; choose another.
              </p>
            )}
          </div>
          {doctor && date && (
            <div className="pp-area-cal">
              <Calendar
                doctor={doctor}
                today={today}
                from={from}
                selected={date}
                onFrom={setCalFrom}
                onSelect={chooseDate}
                live={liveCount}
              />
            </div>
          )}
          {isPatient && (
            <div className="pp-area-sos">
              <Emergency
                doctor={doctor}
                specialtyId={specialtyId}
                onSent={(text) => setNotice({ tone: 'success', text })}
              />
            </div>
          )}
        </div>
        <div className="pp-col">
          <div className="pp-area-grid">
            {route.doctor && date ? (
              <DayGrid
                key={`${route.doctor}:${date}`}
                doctorId={route.doctor}
                date={date}
                busySlotId={busy}
                rescheduling={!!rescheduling}
                onPick={onPick}
                onChange={say}
                onBookable={setLiveCount}
                onSettled={() => setGridDrawn(true)}
                missed={missed}
              />
            ) : (
              <section className="pp-card">
                <h2>Times</h2>
                <p className="pp-muted">Choose a doctor to see the days and times you can book.</p>
              </section>
            )}
          </div>
          {isPatient && (
            <>
              <div className="pp-area-holds">
                <Holds
                  holds={holds}
                  busySlotId={busy}
                  onBook={onBook}
                  onRelease={onRelease}
                  onExpired={onExpired}
                  focusId={focusHold}
                  onLastMinute={(h) => say(`One minute left to confirm ${h.startTime}.`)}
                />
              </div>
              <div className="pp-area-mine">
                <MyAppointments
                  later={later}
                  missed={missed}
                  busyId={busy}
                  rescheduling={rescheduling?.id ?? null}
                  onCancel={onCancel}
                  onReschedule={onReschedule}
                  onChange={say}
                />
              </div>
            </>
          )}
        </div>
      </div>
    </div>
  );
}
