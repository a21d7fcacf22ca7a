// Emergency requests as an alert that must be acknowledged: a modal alertdialog (native
// <dialog>, so focus is trapped and the page behind is inert without extra code), an alarm
// sound until acknowledged, and a log of the ones already seen. Used by the admin board
// and the doctor's day; both roles receive `emergencyRequests`.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useAnnounce } from '../lib/announce';
import { Alarm } from './alarm';
import { clockIn } from './dates';
import { useLiveEvents } from './live';
import { EMERGENCY_REQUESTS, EVENTS_MISSED, type Emergency } from './operations';

const NO_VARIABLES = {};
const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function EmergencyAlerts({ showLog = true }: { showLog?: boolean }) {
  const [waiting, setWaiting] = useState<Emergency[]>([]);
  const [seen, setSeen] = useState<{ emergency: Emergency; acknowledgedAt: string }[]>([]);
  const [sound, setSound] = useState<'off' | 'playing' | 'blocked'>('off');
  const dialog = useRef<HTMLDialogElement>(null);
  const alarm = useMemo(() => new Alarm(), []);
  const announce = useAnnounce();

  useLiveEvents(EMERGENCY_REQUESTS, NO_VARIABLES, {
    onEvent: ({ emergencyRequests: emergency }) => {
      setWaiting((queue) =>
        queue.some((e) => e.id === emergency.id) ? queue : [...queue, emergency],
      );
      announce(`Emergency request from ${emergency.patient.name}: ${emergency.message}`, {
        assertive: true,
      });
    },
  });

  // Emergencies cannot be read again: when the server says events may have been missed,
  // the staff are told to check with the front desk instead.
  const [missedAt, setMissedAt] = useState<string | null>(null);
  useLiveEvents(EVENTS_MISSED, NO_VARIABLES, {
    onEvent: ({ eventsMissed }) => setMissedAt(eventsMissed.at),
  });

  const current = waiting[0];

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (current && !element.open) element.showModal();
    if (!current && element.open) element.close();
  }, [current]);

  useEffect(() => {
    if (!current) {
      alarm.stop();
      setSound('off');
      return undefined;
    }
    let cancelled = false;
    void alarm.start().then((audible) => {
      if (!cancelled) setSound(audible ? 'playing' : 'blocked');
    });
    const title = document.title;
    document.title = `EMERGENCY - ${title}`;
    return () => {
      cancelled = true;
      document.title = title;
    };
  }, [current, alarm]);

  useEffect(() => () => alarm.stop(), [alarm]);

  const acknowledge = () => {
    if (!current) return;
    setSeen((log) =>
      [{ emergency: current, acknowledgedAt: new Date().toISOString() }, ...log].slice(0, 20),
    );
    setWaiting((queue) => queue.slice(1));
  };

  return (
    <>
      <dialog
        ref={dialog}
        className="emergency-dialog"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="emergency-title"
        aria-describedby="emergency-message"
        data-testid="emergency-alert"
        data-emergency-id={current?.id}
        data-sound={sound}
        // Escape must not dismiss it: an emergency is acknowledged on purpose.
        onCancel={(event) => event.preventDefault()}
      >
        {current && (
          <div className="emergency-body">
            <h2 id="emergency-title">Emergency request</h2>
            <p id="emergency-message" className="emergency-message">
              {current.message}
            </p>
            <dl className="emergency-facts">
              <dt>Patient</dt>
              <dd>
                {current.patient.name}
                {current.patient.phone ? `, ${current.patient.phone}` : ''}
                {current.patient.email ? ` (${current.patient.email})` : ''}
              </dd>
              {current.specialty && (
                <>
                  <dt>Specialty</dt>
                  <dd>{current.specialty.name}</dd>
                </>
              )}
              {current.doctor && (
                <>
                  <dt>Doctor</dt>
                  <dd>{current.doctor.name}</dd>
                </>
              )}
              <dt>Sent</dt>
              <dd>
                {clockIn(current.createdAt, viewerZone, true)} ({viewerZone})
              </dd>
            </dl>
            {waiting.length > 1 && (
              <p className="emergency-more">{waiting.length - 1} more waiting</p>
            )}
            <div className="emergency-actions">
              {sound === 'blocked' && (
                <button
                  type="button"
                  onClick={() =>
                    void alarm.start().then((ok) => setSound(ok ? 'playing' : 'blocked'))
                  }
                >
                  Turn on the alarm sound
                </button>
              )}
              {/* autoFocus: showModal() focuses it, so Enter acknowledges. */}
              <button
                type="button"
                className="primary"
                autoFocus
                onClick={acknowledge}
                data-testid="acknowledge-emergency"
              >
                Acknowledge
              </button>
            </div>
          </div>
        )}
      </dialog>
      {showLog && (
        <section className="panel emergency-log" aria-labelledby="emergency-log-title">
          <h2 id="emergency-log-title">Emergencies</h2>
          {missedAt && (
            <p role="status" className="warning" data-testid="emergencies-maybe-missed">
              Live updates were interrupted at {clockIn(missedAt, viewerZone)} ({viewerZone}): an
              emergency request sent then may not have reached this screen.
            </p>
          )}
          {seen.length === 0 ? (
            <p className="muted">None since this page was opened.</p>
          ) : (
            <ul data-testid="emergency-log">
              {seen.map(({ emergency, acknowledgedAt }) => (
                <li key={emergency.id} data-emergency-id={emergency.id}>
                  <strong>{emergency.patient.name}</strong>: {emergency.message}{' '}
                  <span className="muted">
                    acknowledged {clockIn(acknowledgedAt, viewerZone)} ({viewerZone})
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </>
  );
}
