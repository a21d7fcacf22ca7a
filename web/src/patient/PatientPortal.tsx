/** The patient portal: find a doctor, pick a day and a time, hold it, book it, and manage the
 * appointments, all live. Deep link: `#/patient?doctor=<id>&date=<YYYY-MM-DD>`. */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useMutation, useQuery, useSubscription, type CombinedError } from 'urql';
import { useAnnounce } from '../lib/announce';
import { useAuth } from '../lib/auth';
import { describeError, errorCode } from '../lib/errors';
import { intentKey, settleIntent } from '../lib/idempotency';
import { navigate, readPatientLink, useRoute } from '../lib/routes';
import { addDays, localZone, todayIn, zoneLabel } from '../lib/time';
import Calendar from './Calendar';
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
  ME,
  MY_LOCKS,
  NEXT_FREE,
  RESCHEDULE,
  UNLOCK_SLOT,
  type Appointment,
  type DoctorSummary,
  type HeldSlot,
  type Slot,
} from './operations';
import type { CellState } from './slotState';
import { timeOnDay, ViewZoneContext, type ViewZone } from './zone';
import './patient.css';

interface Notice {
  tone: 'error' | 'info' | 'success';
  text: string;
  code?: string;
  /** Take the focus: the action's result is this message (not the top of the page). */
  focus?: boolean;
}

const DOCTOR_TIMES_KEY = 'aayulink.patient.doctorTimes';

function errorNotice(error: CombinedError, timeZone?: string): Notice {
  return {
    tone: 'error',
    text: describeError(error, { timeZone }),
    code: errorCode(error),
    focus: true,
  };
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

  // The viewer's zone: User.timezone, else the browser's; the switch shows doctors' own times.
  const [me] = useQuery<{ me: { id: string; timezone: string } | null }>({
    query: ME,
    pause: !role,
  });
  const [doctorTimes, setDoctorTimes] = useState(
    () => window.localStorage.getItem(DOCTOR_TIMES_KEY) === 'true',
  );
  const view = useMemo<ViewZone>(
    () => ({ mine: me.data?.me?.timezone ?? localZone(), doctors: doctorTimes }),
    [me.data, doctorTimes],
  );
  const zoneFor = useCallback(
    (doctorZone: string) => (view.doctors ? doctorZone : view.mine),
    [view],
  );

  // A doctor opened with no day chosen lands on its next day with free times, not on a today
  // that may have none.
  const [nextFree] = useQuery<{ doctor: { id: string; nextAvailableSlot: { date: string } | null } | null }>({
    query: NEXT_FREE,
    variables: { id: route.doctor ?? '' },
    pause: !route.doctor || !!route.date,
    requestPolicy: 'network-only',
  });
  const nextFreeDate =
    nextFree.data?.doctor?.id === route.doctor ? nextFree.data?.doctor?.nextAvailableSlot?.date : undefined;
  const nextFreeKnown =
    !!route.doctor &&
    !!nextFree.data &&
    !nextFree.fetching &&
    (nextFree.data.doctor === null || nextFree.data.doctor.id === route.doctor);
  useEffect(() => {
    if (route.doctor && !route.date && nextFreeDate) setRoute({ doctor: route.doctor, date: nextFreeDate });
  }, [route.doctor, route.date, nextFreeDate, setRoute]);

  const today = doctor ? todayIn(doctor.timezone) : '';
  const date = route.date ?? (nextFreeKnown || nextFree.error ? today : '');
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
  // Where the focus goes after an action: the acted row, the move's confirm, the day grid.
  const [focusAppointment, setFocusAppointment] = useState<string | null>(null);
  const [focusMove, setFocusMove] = useState(false);
  const [focusGrid, setFocusGrid] = useState(false);
  const moveButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (focusMove && moveButton.current) {
      moveButton.current.focus();
      setFocusMove(false);
    }
  }, [focusMove, move]);
  const noticeRef = useRef<HTMLDivElement>(null);
  // The patient's own booked times, from "my appointments": "Yours" in the day grid.
  const [mySlotIds, setMySlotIds] = useState<ReadonlySet<string>>(() => new Set());
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
        setFocusMove(true);
        return;
      }
      const intent = `lock:${slot.id}`;
      setBusy(slot.id);
      const result = await lockSlot({ slotId: slot.id, idempotencyKey: intentKey(intent) });
      setBusy(null);
      settleIntent(intent, result.error);
      if (result.error || !result.data) {
        if (result.error) setNotice(errorNotice(result.error, zoneFor(doctor?.timezone ?? view.mine)));
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
        text: `${timeOnDay(held.startsAt, zoneFor(doctor.timezone))} is held for you. Confirm it below before the countdown ends.`,
      });
    },
    [isPatient, rescheduling, lockSlot, zoneFor],
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
        setNotice(errorNotice(result.error, zoneFor(hold.doctor.timezone)));
        const code = errorCode(result.error);
        if (code === 'SLOT_ALREADY_BOOKED' || code === 'SLOT_UNAVAILABLE') dropHold(hold.id);
        return;
      }
      dropHold(hold.id);
      setNotice({
        tone: 'success',
        text: `Booked: ${timeOnDay(hold.startsAt, zoneFor(hold.doctor.timezone))} with ${hold.doctor.name}.`,
      });
      setFocusAppointment(result.data?.bookAppointment?.id ?? null);
    },
    [book, dropHold, zoneFor],
  );

  const onRelease = useCallback(
    async (hold: HeldSlot) => {
      setBusy(hold.id);
      const result = await unlockSlot({ slotId: hold.id });
      setBusy(null);
      if (result.error) {
        setNotice(errorNotice(result.error, zoneFor(hold.doctor.timezone)));
        return;
      }
      dropHold(hold.id);
      setNotice({
        tone: 'info',
        text: `Released ${timeOnDay(hold.startsAt, zoneFor(hold.doctor.timezone))}; others may book it now.`,
        focus: true,
      });
    },
    [unlockSlot, dropHold, zoneFor],
  );

  const onExpired = useCallback(
    (hold: HeldSlot) => {
      dropHold(hold.id);
      setNotice({
        tone: 'info',
        text: `Your hold on ${timeOnDay(hold.startsAt, zoneFor(hold.doctor.timezone))} ran out; pick the time again to book it.`,
      });
    },
    [dropHold, zoneFor],
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
        setNotice(errorNotice(result.error, zoneFor(a.doctor.timezone)));
        return;
      }
      if (rescheduling?.id === a.id) setRescheduling(null);
      // The row leaves the upcoming list: the result message takes the focus.
      setNotice({
        tone: 'success',
        text: `Cancelled the ${timeOnDay(a.startsAt, zoneFor(a.doctor.timezone))} appointment with ${a.doctor.name}.`,
        focus: true,
      });
    },
    [cancel, rescheduling, zoneFor],
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
        text: `Pick a new time for your ${timeOnDay(a.startsAt, zoneFor(a.doctor.timezone))} appointment (any ${a.doctor.specialty.name} doctor).`,
      });
      setFocusGrid(true);
    },
    [rescheduling, setRoute, zoneFor],
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
      setNotice(errorNotice(result.error, zoneFor(doctor?.timezone ?? view.mine)));
      return;
    }
    dropHold(move.id);
    setNotice({
      tone: 'success',
      text: `Moved to ${timeOnDay(move.startsAt, zoneFor(doctor?.timezone ?? rescheduling.doctor.timezone))}.`,
    });
    setFocusAppointment(rescheduling.id);
    setRescheduling(null);
    setMove(null);
  }, [rescheduling, move, reschedule, dropHold, doctor, zoneFor]);

  // Errors speak through their own role="alert"; other notices through the shared announcer.
  useEffect(() => {
    if (notice && notice.tone !== 'error') say(notice.text);
    if (notice?.focus) noticeRef.current?.focus();
  }, [notice, say]);

  const specialtyLocked = useMemo(() => rescheduling?.doctor.specialty.id ?? null, [rescheduling]);

  return (
    <ViewZoneContext.Provider value={view}>
    <div className="pp" data-testid="patient-portal">
      <h1 className="pp-title">Book an appointment</h1>
      <div className="pp-zone" data-testid="view-zone" data-zone={doctorTimes && doctor ? doctor.timezone : view.mine}>
        <p className="pp-muted">
          {doctorTimes
            ? "Times shown in each doctor's own time zone"
            : `Times shown in your time zone, ${zoneLabel(view.mine)}`}
          {doctor && doctor.timezone !== view.mine
            ? `; ${doctor.name} works in ${zoneLabel(doctor.timezone)}.`
            : '.'}
        </p>
        <label className="pp-switch">
          <input
            type="checkbox"
            role="switch"
            checked={doctorTimes}
            data-testid="doctor-times-switch"
            onChange={(e) => {
              setDoctorTimes(e.target.checked);
              window.localStorage.setItem(DOCTOR_TIMES_KEY, String(e.target.checked));
            }}
          />{' '}
          Show the doctor's local times
        </label>
      </div>
      {notice && (
        <div
          ref={noticeRef}
          tabIndex={-1}
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
            Moving your appointment of{' '}
            {timeOnDay(rescheduling.startsAt, zoneFor(rescheduling.doctor.timezone))} with{' '}
            {rescheduling.doctor.name}.{' '}
            {move
              ? `New time: ${timeOnDay(move.startsAt, zoneFor(doctor?.timezone ?? rescheduling.doctor.timezone))}${doctor ? ` with ${doctor.name}` : ''}.`
              : 'Pick a new time in the day grid.'}
          </p>
          <div className="pp-actions">
            {move && (
              <button
                ref={moveButton}
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
                mySlotIds={mySlotIds}
                focusFirst={focusGrid}
                onFocused={() => setFocusGrid(false)}
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
                <p className="pp-muted">
                  {route.doctor
                    ? 'Finding the next day with free times…'
                    : 'Choose a doctor to see the days and times you can book.'}
                </p>
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
                  onLastMinute={(h) =>
                    say(`One minute left to confirm ${timeOnDay(h.startsAt, zoneFor(h.doctor.timezone))}.`)
                  }
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
                  onMine={setMySlotIds}
                  focusId={focusAppointment}
                  onFocused={() => setFocusAppointment(null)}
                />
              </div>
            </>
          )}
        </div>
      </div>
    </div>
    </ViewZoneContext.Provider>
  );
}
