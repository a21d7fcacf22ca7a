/** The times this patient holds: a countdown to each lock's expiry, a reason, Book and Release. */
import { useEffect, useRef, useState } from 'react';
import { formatCountdown, secondsUntil } from '../lib/time';
import { rangeIn, useZoneFor, zoneNote } from './zone';
import type { HeldSlot } from './operations';

interface Props {
  holds: HeldSlot[];
  busySlotId: string | null;
  onBook: (hold: HeldSlot, reason: string) => void;
  onRelease: (hold: HeldSlot) => void;
  onExpired: (hold: HeldSlot) => void;
  /** Said once through the live region, rather than the timer announcing every second. */
  onLastMinute?: (hold: HeldSlot) => void;
  /** The hold just taken: its reason field gets the focus (and scrolls into view on a phone). */
  focusId?: string | null;
}

export default function Holds({
  holds,
  busySlotId,
  onBook,
  onRelease,
  onExpired,
  onLastMinute,
  focusId,
}: Props) {
  if (!holds.length) return null;
  return (
    <section className="pp-card pp-holds" aria-labelledby="pp-holds-title">
      <h2 id="pp-holds-title">Held for you</h2>
      {holds.map((hold) => (
        <HoldCard
          key={hold.id}
          hold={hold}
          busy={busySlotId === hold.id}
          onBook={onBook}
          onRelease={onRelease}
          onExpired={onExpired}
          onLastMinute={onLastMinute}
          focus={focusId === hold.id}
        />
      ))}
    </section>
  );
}

function HoldCard({
  hold,
  busy,
  onBook,
  onRelease,
  onExpired,
  onLastMinute,
  focus,
}: {
  hold: HeldSlot;
  busy: boolean;
  onBook: Props['onBook'];
  onRelease: Props['onRelease'];
  onExpired: Props['onExpired'];
  onLastMinute: Props['onLastMinute'];
  focus: boolean;
}) {
  const reasonRef = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (focus) reasonRef.current?.focus();
  }, [focus]);
  const expiresAt = hold.lock?.expiresAt ?? new Date().toISOString();
  const [left, setLeft] = useState(() => secondsUntil(expiresAt));
  const [reason, setReason] = useState('');
  useEffect(() => {
    const tick = () => {
      const seconds = secondsUntil(expiresAt);
      setLeft(seconds);
      if (seconds === 60) onLastMinute?.(hold);
      if (seconds <= 0) onExpired(hold);
    };
    tick();
    const timer = window.setInterval(tick, 1000);
    return () => window.clearInterval(timer);
  }, [expiresAt, hold, onExpired, onLastMinute]);
  const reasonId = `pp-reason-${hold.id}`;
  const zone = useZoneFor()(hold.doctor.timezone);
  const urgent = left <= 60;
  return (
    <form
      className="pp-hold"
      data-testid="hold"
      data-slot-id={hold.id}
      onSubmit={(e) => {
        e.preventDefault();
        if (!busy) onBook(hold, reason.trim());
      }}
    >
      <p className="pp-hold-what">
        <strong>{rangeIn(hold.startsAt, hold.endsAt, zone)}</strong> with {hold.doctor.name} (
        {hold.doctor.specialty.name})
        <br />
        <span className="pp-muted">{zoneNote(zone, hold.doctor.timezone, hold.startsAt)}</span>
      </p>
      <p className={urgent ? 'pp-countdown pp-urgent' : 'pp-countdown'}>
        Held for{' '}
        <time
          data-testid="lock-countdown"
          data-expires-at={expiresAt}
          dateTime={`PT${left}S`}
          role="timer"
        >
          {formatCountdown(left)}
        </time>
      </p>
      <label htmlFor={reasonId}>Reason for the visit (optional)</label>
      <textarea
        ref={reasonRef}
        id={reasonId}
        rows={2}
        maxLength={1000}
        value={reason}
        onChange={(e) => setReason(e.target.value)}
      />
      <div className="pp-actions">
        <button type="submit" className="pp-primary" disabled={busy}>
          {busy ? 'Working…' : 'Confirm booking'}
        </button>
        <button type="button" disabled={busy} onClick={() => onRelease(hold)}>
          Release
        </button>
      </div>
    </form>
  );
}
