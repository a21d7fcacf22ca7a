// A booked cell opened: who the patient is and how to reach them, the reason, the status and
// its history, and what the front desk can do (check in, cancel with a reason, reschedule, and
// undo a no-show marked by mistake when the patient did turn up).
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { describeError } from '../lib/errors';
import { formatDateTime, useNow } from '../lib/time';
import { intentKey, settleIntent } from '../lib/idempotency';
import { clockIn, noShowUndoOpen } from './dates';
import { FormError } from './forms';
import { CANCEL_FOR, CHECK_IN, OPEN_APPOINTMENT } from './frontDesk';
import { UPDATE_STATUS } from './operations';

const ACTIVE = ['SCHEDULED', 'CONFIRMED'];

/** The front desk's last result; `n` makes the same words said twice a new result. */
export interface DeskResult {
  text: string;
  n: number;
}
const STATUS_LABEL: Record<string, string> = {
  SCHEDULED: 'Scheduled',
  CONFIRMED: 'Confirmed',
  IN_PROGRESS: 'In progress',
  COMPLETED: 'Completed',
  CANCELLED: 'Cancelled',
  NO_SHOW: 'No-show',
};

/** "appointment.checked_in" → "checked in". */
function actionLabel(action: string): string {
  return action.replace(/^[a-z_]+\./, '').replace(/_/g, ' ');
}

export function AppointmentPanel({
  appointmentId,
  version,
  rescheduling,
  result,
  viewerZone,
  onResult,
  onReschedule,
  onClose,
}: {
  appointmentId: string;
  /** Changes when the board hears of a change to it: read it again. */
  version: string;
  rescheduling: boolean;
  /** What the desk's last action did here; it takes the focus each time it is said. */
  result: DeskResult | null;
  /** History times are told in it (User.timezone), named. */
  viewerZone: string;
  onResult: (text: string) => void;
  onReschedule: (on: boolean) => void;
  onClose: () => void;
}) {
  const [opened, reread] = useQuery({
    query: OPEN_APPOINTMENT,
    variables: { id: appointmentId },
    requestPolicy: 'network-only',
  });
  const [checkIn, runCheckIn] = useMutation(CHECK_IN);
  const [cancelling, setCancelling] = useState(false);
  const [reason, setReason] = useState('');
  const [cancel, runCancel] = useMutation(CANCEL_FOR);
  // The doctor's day undoes a no-show with the same status change (NO_SHOW -> CONFIRMED).
  const [undo, runUndo] = useMutation(UPDATE_STATUS);
  const now = useNow(30_000);
  const heading = useRef<HTMLHeadingElement>(null);
  const said = useRef<HTMLParagraphElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  const deskActions = useRef<HTMLDivElement>(null);
  const reasonInput = useRef<HTMLInputElement>(null);
  const section = useRef<HTMLElement>(null);

  /** Focuses `target`, then brings the panel's start to the top of the screen if its heading
   * or its actions are not wholly on it. On a phone the sticky actions rise no higher than
   * the panel's own top, so a panel opened at the screen's foot, its heading just visible
   * (a focus there scrolls nothing), left them below the screen (issue 22). */
  const showPanel = (target?: HTMLElement | null) => {
    target?.focus({ preventScroll: true });
    const offScreen = (el: HTMLElement | null) => {
      const r = el?.getBoundingClientRect();
      return !!r && (r.top < 0 || r.bottom > window.innerHeight);
    };
    if (offScreen(heading.current) || offScreen(deskActions.current) || offScreen(target ?? null)) {
      section.current?.scrollIntoView({ block: 'start' });
    }
  };
  // Layout effects: the panel is placed in the same task as the change that drew it, before
  // anything (a person or a test) sees the page in between.
  useLayoutEffect(() => showPanel(heading.current), [appointmentId]);
  // The booking read in: the panel and its actions grew, the latter may now end off screen.
  const loaded = !!opened.data?.appointment;
  useLayoutEffect(() => {
    if (loaded) showPanel();
  }, [loaded]);
  // After an action the focus goes to what it did, never back to the top of the page (the
  // button pressed is often gone: checked in, cancelled, a cell redrawn by a move).
  useLayoutEffect(() => {
    if (result) showPanel(said.current);
  }, [result]);
  // The question and both its answers in view, not only the reason field the focus scrolls to
  // (on a phone the answers would sit below the screen's edge): the whole block, padding
  // included, so no answer ends on the screen's last fraction of a pixel.
  useEffect(() => {
    if (!cancelling) return;
    reasonInput.current?.focus({ preventScroll: true });
    deskActions.current?.scrollIntoView({ block: 'nearest' });
  }, [cancelling]);
  useEffect(() => {
    if (version) reread({ requestPolicy: 'network-only' });
  }, [version, reread]);

  const a = opened.data?.appointment;
  const zone = a?.doctor.timezone ?? 'UTC';

  const submitCancel = async (event: FormEvent) => {
    event.preventDefault();
    const intent = `cancel:${appointmentId}`;
    const result = await runCancel({ id: appointmentId, reason: reason.trim() || null, idempotencyKey: intentKey(intent) });
    settleIntent(intent, result.error);
    if (result.data) {
      setCancelling(false);
      const patient = result.data.cancelAppointment.patient.name;
      onResult(`Cancelled ${result.data.cancelAppointment.appointmentTime}; ${patient} is notified.`);
    }
  };

  const arrive = async (id: string) => {
    const result = await runCheckIn({ id });
    const arrived = result.data?.checkInAppointment;
    if (arrived?.checkedInAt) {
      onResult(`${arrived.patient.name} checked in at ${clockIn(arrived.checkedInAt, arrived.doctor.timezone)}.`);
    }
  };

  const undoNoShow = async (id: string) => {
    const result = await runUndo({ id, status: 'CONFIRMED', notes: null });
    // Read again either way: a refusal usually means it was changed meanwhile.
    reread({ requestPolicy: 'network-only' });
    const undone = result.data?.updateAppointmentStatus;
    if (undone) {
      onResult(`No-show undone: ${undone.patient.name}, ${undone.appointmentTime}, is confirmed again.`);
    } else {
      heading.current?.focus(); // the button may be gone with the change; the alert is said
    }
  };

  return (
    <section
      ref={section}
      className="panel desk-panel"
      data-testid="appointment-panel"
      data-appointment-id={appointmentId}
      data-status={a?.status}
      aria-labelledby="opened-title"
    >
      <h2 id="opened-title" tabIndex={-1} ref={heading}>
        {a ? `${a.patient.name}, ${a.appointmentTime}` : 'Appointment'}
      </h2>
      {opened.error && (
        <p role="alert" className="error">
          {describeError(opened.error)}
        </p>
      )}
      {result && (
        <p role="status" className="notice desk-result" tabIndex={-1} ref={said} data-testid="desk-result">
          {result.text}
        </p>
      )}
      {!a && !opened.error && <p className="muted">Loading…</p>}
      {a && (
        <>
          <dl className="opened-facts">
            <dt>Patient</dt>
            <dd data-testid="opened-patient">{a.patient.name}</dd>
            <dt>Phone</dt>
            <dd data-testid="opened-phone">{a.patient.phone ? <a href={`tel:${a.patient.phone.replace(/\s/g, '')}`}>{a.patient.phone}</a> : '—'}</dd>
            {a.patient.email && (
              <>
                <dt>Email</dt>
                <dd>{a.patient.email}</dd>
              </>
            )}
            <dt>When</dt>
            <dd>
              {a.appointmentDate} {a.appointmentTime}–{a.endTime} ({zone}), {a.doctor.name}, {a.specialty.name}
            </dd>
            <dt>Reason</dt>
            <dd data-testid="opened-reason">{a.reasonForVisit || '—'}</dd>
            <dt>Status</dt>
            <dd data-testid="opened-status">
              <span className={`status status-${a.status.toLowerCase()}`}>{STATUS_LABEL[a.status]}</span>
              {a.checkedInAt && <span data-testid="arrived"> · arrived {clockIn(a.checkedInAt, zone)}</span>}
              {a.status === 'NO_SHOW' && a.noShowAt && (
                <span data-testid="no-show-at"> · marked at {clockIn(a.noShowAt, zone)}</span>
              )}
              {a.cancellationReason && <span> · “{a.cancellationReason}”</span>}
            </dd>
          </dl>
          <h3>History</h3>
          <ol className="opened-history" data-testid="opened-history">
            {a.history.map((entry) => (
              <li key={entry.id}>
                <time dateTime={entry.at}>{formatDateTime(entry.at, viewerZone)}</time> {actionLabel(entry.action)}
                {entry.actor ? ` by ${entry.actor.name}` : entry.actorRole ? ` by ${entry.actorRole.toLowerCase()}` : ''}
              </li>
            ))}
          </ol>
          <FormError error={checkIn.error ?? cancel.error ?? undo.error} />
        </>
      )}
      {/* One block, kept in view at the foot of the screen on a phone while the panel is. */}
      <div ref={deskActions} className="desk-actions" data-testid="desk-actions">
        <div className="row-actions">
          {a && ACTIVE.includes(a.status) && (
            <>
              {!a.checkedInAt && (
                <button type="button" className="primary" disabled={checkIn.fetching} onClick={() => void arrive(a.id)}>
                  Check in
                </button>
              )}
              <button type="button" aria-pressed={rescheduling} onClick={() => onReschedule(!rescheduling)}>
                {rescheduling ? 'Stop rescheduling' : 'Reschedule'}
              </button>
              {!cancelling && (
                <button ref={cancelButton} type="button" className="danger" onClick={() => setCancelling(true)}>
                  Cancel appointment
                </button>
              )}
            </>
          )}
          {a && a.status === 'NO_SHOW' && noShowUndoOpen(a.noShowAt, now) && (
            <button type="button" className="primary" disabled={undo.fetching} onClick={() => void undoNoShow(a.id)}>
              Undo no-show
            </button>
          )}
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
        {a && rescheduling && (
          <p className="muted" data-testid="reschedule-hint">
            Choose a free time on the board to move this appointment there.
          </p>
        )}
        {a && cancelling && (
          <form onSubmit={submitCancel} className="inline-form" aria-label="Cancel the appointment">
            <label>
              Reason (told to the patient)
              <input ref={reasonInput} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
            </label>
            <button type="submit" className="danger" disabled={cancel.fetching}>
              Confirm cancellation
            </button>
            <button
              type="button"
              onClick={() => {
                setCancelling(false);
                window.setTimeout(() => cancelButton.current?.focus(), 0);
              }}
            >
              Keep it
            </button>
          </form>
        )}
      </div>
    </section>
  );
}
