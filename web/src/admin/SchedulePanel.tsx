// A doctor's weekly working hours (`setSchedule`) and its days off or other one-day hours
// (`setDateOverride` / `clearDateOverride`), as time pickers in the doctor's own timezone, with
// Monday's hours copied to the other weekdays in one click.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useClient, useMutation, useQuery, type CombinedError } from 'urql';
import { describeError } from '../lib/errors';
import { addDays, todayIn } from '../lib/time';
import { DayOffCheck, outsideHours } from './DayOffCheck';
import { FormError, invalid } from './forms';
import { DOCTOR_DAY_BOOKINGS, type AffectedAppointment } from './frontDesk';
import {
  emptyWeek,
  formatRanges,
  RangesFields,
  rangesProblem,
  sortedRanges,
  titleCase,
  weekProblem,
  type HoursProblem,
  type WeekHours,
} from './HoursFields';
import {
  CLEAR_DATE_OVERRIDE,
  DOCTOR_SCHEDULE,
  MANAGED_DOCTORS,
  SET_DATE_OVERRIDE,
  SET_SCHEDULE,
  WEEKDAYS,
  type ScheduleChange,
  type TimeRange,
  type Weekday,
} from './operations';

const NO_VARIABLES = {};
const OVERRIDES_AHEAD_DAYS = 365;
const COPIED_TO: Weekday[] = ['TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'];

function ChangeSummary({ change }: { change: ScheduleChange | null }) {
  if (!change) return null;
  return (
    <div role="status" className="notice" data-testid="schedule-result">
      <p>
        Saved: {change.slotsAdded} slots added, {change.slotsRemoved} removed; bookable through{' '}
        {change.horizonEnd}.
      </p>
      {change.conflicts.length > 0 && (
        <>
          <p className="warning">
            {change.conflicts.length} booked appointment(s) now fall outside the working hours. They
            were kept; contact the patients:
          </p>
          <ul>
            {change.conflicts.map((c) => (
              <li key={c.id}>
                {c.appointmentDate} {c.appointmentTime}, {c.patient.name}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

interface WeeklyDraft {
  hours: WeekHours;
  slotMinutes: string;
  bufferMinutes: string;
  validFrom: string;
  validUntil: string;
}

function DoctorSchedule({ doctorId }: { doctorId: string }) {
  const [today] = useState(() => todayIn());
  const [schedule, refetch] = useQuery({
    query: DOCTOR_SCHEDULE,
    variables: { id: doctorId, from: today, to: addDays(today, OVERRIDES_AHEAD_DAYS) },
    requestPolicy: 'network-only',
  });
  const [saved, save] = useMutation(SET_SCHEDULE);
  const [overrideSaved, saveOverride] = useMutation(SET_DATE_OVERRIDE);
  const [cleared, clearOverride] = useMutation(CLEAR_DATE_OVERRIDE);
  const [draft, setDraft] = useState<WeeklyDraft>({
    hours: emptyWeek(),
    slotMinutes: '30',
    bufferMinutes: '0',
    validFrom: '',
    validUntil: '',
  });
  const [problem, setProblem] = useState<HoursProblem | null>(null);
  const [copied, setCopied] = useState(false);
  const [change, setChange] = useState<ScheduleChange | null>(null);
  const [overrideDraft, setOverrideDraft] = useState<{ date: string; ranges: TimeRange[]; reason: string }>({
    date: '',
    ranges: [],
    reason: '',
  });
  const [overrideProblem, setOverrideProblem] = useState<HoursProblem | null>(null);
  const client = useClient();
  const [affected, setAffected] = useState<AffectedAppointment[] | null>(null);
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<string | null>(null);
  const overrideSubmit = useRef<HTMLButtonElement>(null);
  const overrideResult = useRef<HTMLDivElement>(null);
  const [overrideChange, setOverrideChange] = useState<ScheduleChange | null>(null);
  const doctor = schedule.data?.doctor;

  // Fill the form with the saved schedule once it is read.
  useEffect(() => {
    const current = doctor?.schedule;
    if (!current) return;
    const hours = emptyWeek();
    for (const day of current.weekly) hours[day.weekday] = day.ranges.map((r) => ({ start: r.start, end: r.end }));
    setDraft({
      hours,
      slotMinutes: String(current.slotMinutes),
      bufferMinutes: String(current.bufferMinutes),
      validFrom: current.validFrom,
      validUntil: current.validUntil ?? '',
    });
  }, [doctor?.schedule]);

  const reload = () => refetch({ requestPolicy: 'network-only' });

  const setDay = (weekday: Weekday, ranges: TimeRange[]) => {
    setCopied(false);
    setDraft((d) => ({ ...d, hours: { ...d.hours, [weekday]: ranges } }));
  };

  const copyMonday = () => {
    setDraft((d) => ({
      ...d,
      hours: { ...d.hours, ...Object.fromEntries(COPIED_TO.map((w) => [w, d.hours.MONDAY.map((r) => ({ ...r }))])) },
    }));
    setCopied(true);
  };

  const submitWeekly = async (event: FormEvent) => {
    event.preventDefault();
    const wrong = weekProblem(draft.hours);
    setProblem(wrong);
    if (wrong) return;
    const weekly = WEEKDAYS.filter((weekday) => draft.hours[weekday].length > 0).map((weekday) => ({
      weekday,
      ranges: sortedRanges(draft.hours[weekday]),
    }));
    const result = await save({
      doctorId,
      input: {
        slotMinutes: Number(draft.slotMinutes),
        bufferMinutes: Number(draft.bufferMinutes || 0),
        weekly,
        validFrom: draft.validFrom || null,
        validUntil: draft.validUntil || null,
      },
    });
    if (!result.error && result.data) {
      setChange(result.data.setSchedule);
      reload();
    }
  };

  const applyOverride = async () => {
    const result = await saveOverride({
      doctorId,
      date: overrideDraft.date,
      ranges: sortedRanges(overrideDraft.ranges),
      reason: overrideDraft.reason.trim() || null,
    });
    setAffected(null);
    if (!result.error && result.data) {
      setOverrideChange(result.data.setDateOverride);
      setOverrideDraft({ date: '', ranges: [], reason: '' });
      reload();
      overrideResult.current?.focus();
    } else {
      overrideSubmit.current?.focus();
    }
  };

  // Bookings the change would leave outside the hours are shown first (with phones, and a
  // cancel-and-notify each); a day with none is changed at once.
  const submitOverride = async (event: FormEvent) => {
    event.preventDefault();
    setCheckError(null);
    const wrong = rangesProblem('Hours that day', overrideDraft.ranges);
    setOverrideProblem(wrong);
    if (wrong) return;
    setChecking(true);
    const booked = await client
      .query(DOCTOR_DAY_BOOKINGS, { doctorId, date: overrideDraft.date }, { requestPolicy: 'network-only' })
      .toPromise();
    setChecking(false);
    if (booked.error) {
      setCheckError(describeError(booked.error));
      return;
    }
    const outside = outsideHours(
      (booked.data?.appointments.edges ?? []).map((e) => e.node),
      overrideDraft.ranges,
    );
    if (outside.length > 0) setAffected(outside);
    else await applyOverride();
  };

  const clear = async (date: string) => {
    const result = await clearOverride({ doctorId, date });
    if (!result.error && result.data) {
      setOverrideChange(result.data.clearDateOverride);
      reload();
    }
  };

  if (schedule.error) return <FormError error={schedule.error} />;
  if (!doctor) return <p className="muted">Loading…</p>;
  const weeklyError: CombinedError | undefined = saved.error;

  return (
    <div className="schedule-editor" data-testid="schedule-editor" data-doctor-id={doctor.id}>
      <form onSubmit={(e) => void submitWeekly(e)} aria-label={`Weekly hours of ${doctor.name}`}>
        <h3>Weekly hours</h3>
        <p className="muted">
          Times in {doctor.timezone}. A day with no hours is a day off.
          {doctor.schedule
            ? ` Last changed ${doctor.schedule.updatedAt.slice(0, 10)}.`
            : ' No weekly schedule yet: slots are only those made by hand.'}
        </p>
        <div className="weekly-hours">
          {WEEKDAYS.map((weekday) => (
            <RangesFields
              key={weekday}
              day={titleCase(weekday)}
              name={`hours-${weekday.toLowerCase()}`}
              ranges={draft.hours[weekday]}
              onChange={(ranges) => setDay(weekday, ranges)}
              problem={problem}
              emptyText="Day off"
            >
              {weekday === 'MONDAY' && (
                <button type="button" onClick={copyMonday} disabled={draft.hours.MONDAY.length === 0}>
                  Copy to Tuesday–Friday
                </button>
              )}
            </RangesFields>
          ))}
        </div>
        {copied && (
          <p role="status" className="muted" data-testid="hours-copied">
            Monday&apos;s hours copied to Tuesday–Friday ({formatRanges(draft.hours.MONDAY)}). Save to apply them.
          </p>
        )}
        <div className="weekly-grid">
          <label>
            Slot length, minutes
            <input
              name="slot-minutes"
              type="number"
              min="5"
              max="480"
              required
              value={draft.slotMinutes}
              onChange={(e) => setDraft((d) => ({ ...d, slotMinutes: e.target.value }))}
              {...invalid(weeklyError, 'slotMinutes')}
            />
          </label>
          <label>
            Gap after each slot, minutes
            <input
              name="buffer-minutes"
              type="number"
              min="0"
              max="240"
              value={draft.bufferMinutes}
              onChange={(e) => setDraft((d) => ({ ...d, bufferMinutes: e.target.value }))}
              {...invalid(weeklyError, 'bufferMinutes')}
            />
          </label>
          <label>
            Valid from (blank: today)
            <input
              name="valid-from"
              type="date"
              value={draft.validFrom}
              onChange={(e) => setDraft((d) => ({ ...d, validFrom: e.target.value }))}
              {...invalid(weeklyError, 'validFrom')}
            />
          </label>
          <label>
            Valid until (blank: open-ended)
            <input
              name="valid-until"
              type="date"
              value={draft.validUntil}
              onChange={(e) => setDraft((d) => ({ ...d, validUntil: e.target.value }))}
              {...invalid(weeklyError, 'validUntil')}
            />
          </label>
        </div>
        <button type="submit" className="primary" disabled={saved.fetching}>
          {saved.fetching ? 'Saving…' : 'Save weekly hours'}
        </button>
        {problem && (
          <p role="alert" className="error" data-testid="hours-problem">
            {problem.message}
          </p>
        )}
        <FormError error={weeklyError} />
        <ChangeSummary change={change} />
      </form>

      <form onSubmit={(e) => void submitOverride(e)} aria-label={`Day off or other hours for ${doctor.name}`}>
        <h3>Days off and one-day hours</h3>
        <div className="weekly-grid">
          <label>
            Date
            <input
              name="override-date"
              type="date"
              required
              min={today}
              value={overrideDraft.date}
              onChange={(e) => {
                setAffected(null);
                setOverrideDraft((d) => ({ ...d, date: e.target.value }));
              }}
              {...invalid(overrideSaved.error, 'date')}
            />
          </label>
          <label>
            Reason (optional)
            <input
              name="override-reason"
              value={overrideDraft.reason}
              onChange={(e) => setOverrideDraft((d) => ({ ...d, reason: e.target.value }))}
              {...invalid(overrideSaved.error, 'reason')}
            />
          </label>
        </div>
        <RangesFields
          day="Hours that day"
          name="override-hours"
          ranges={overrideDraft.ranges}
          onChange={(ranges) => {
            setAffected(null);
            setOverrideDraft((d) => ({ ...d, ranges }));
          }}
          problem={overrideProblem}
          emptyText="None: a day off."
        />
        {affected ? (
          <DayOffCheck
            doctorName={doctor.name}
            date={overrideDraft.date}
            dayOff={overrideDraft.ranges.length === 0}
            appointments={affected}
            reason={overrideDraft.reason}
            applying={overrideSaved.fetching}
            onConfirm={() => void applyOverride()}
            onBack={() => {
              setAffected(null);
              // After the render that brings the submit button back.
              window.setTimeout(() => overrideSubmit.current?.focus(), 0);
            }}
          />
        ) : (
          <button
            ref={overrideSubmit}
            type="submit"
            className="primary"
            disabled={overrideSaved.fetching || checking}
          >
            {overrideDraft.ranges.length > 0 ? 'Set hours for that day' : 'Mark day off'}
          </button>
        )}
        {checkError && (
          <p role="alert" className="error">
            {checkError}
          </p>
        )}
        {overrideProblem && (
          <p role="alert" className="error">
            {overrideProblem.message}
          </p>
        )}
        <FormError error={overrideSaved.error ?? cleared.error} />
        <div ref={overrideResult} tabIndex={-1} data-testid="override-result">
          <ChangeSummary change={overrideChange} />
        </div>
      </form>
      <h4>Coming up</h4>
      {doctor.dateOverrides.length === 0 ? (
        <p className="muted">No days off or special hours in the next year.</p>
      ) : (
        <ul className="managed-list" data-testid="override-list">
          {doctor.dateOverrides.map((o) => (
            <li key={o.date} className="row-line" data-date={o.date}>
              <span>
                <strong>{o.date}</strong>{' '}
                {o.ranges.length === 0 ? 'day off' : formatRanges(o.ranges)}
                {o.reason && <span className="muted"> ({o.reason})</span>}
              </span>
              <button type="button" onClick={() => void clear(o.date)} aria-label={`Clear ${o.date}`}>
                Clear
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function SchedulePanel() {
  const [doctors] = useQuery({ query: MANAGED_DOCTORS, variables: NO_VARIABLES, requestPolicy: 'cache-and-network' });
  const [doctorId, setDoctorId] = useState('');
  const list = (doctors.data?.doctors ?? []).filter((d) => d.isActive);

  return (
    <section className="panel" aria-labelledby="schedules-title">
      <h2 id="schedules-title">Schedules</h2>
      <label>
        Doctor{' '}
        <select name="schedule-doctor" value={doctorId} onChange={(e) => setDoctorId(e.target.value)}>
          <option value="">Choose a doctor…</option>
          {list.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name} ({d.specialty.name}, {d.timezone})
            </option>
          ))}
        </select>
      </label>
      {doctors.error && <FormError error={doctors.error} />}
      {doctorId && <DoctorSchedule key={doctorId} doctorId={doctorId} />}
    </section>
  );
}
