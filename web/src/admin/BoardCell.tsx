// One slot on the admin board: its state, who holds or booked it, and, where the front desk
// can act, a button (a free future time to book, a booking to open).
import type { BoardAppointment } from './operations';
import type { Cell } from './boardState';
import { clockIn } from './dates';

export const STATE_LABEL: Record<string, string> = {
  AVAILABLE: 'Free',
  LOCKED: 'Held',
  BOOKED: 'Booked',
  UNAVAILABLE: 'Closed',
};

/** Who is on a cell (admins may see it) and a short note: until when, status, past... */
function cellDetail(
  cell: Cell,
  booking: BoardAppointment | undefined,
  zone: string,
): { who?: string; note: string } {
  if (cell.state === 'LOCKED' && cell.lock) {
    return {
      who: cell.lock.patient?.name ?? 'a patient',
      note: `until ${clockIn(cell.lock.expiresAt, zone)}`,
    };
  }
  if (cell.state === 'BOOKED') {
    return booking
      ? { who: booking.patient.name, note: booking.status.toLowerCase().replace('_', ' ') }
      : { note: '' };
  }
  if (cell.state === 'UNAVAILABLE') return { note: '' };
  if (Date.parse(cell.startsAt) < Date.now()) return { note: 'past' };
  return { note: cell.lastKind === 'RELEASED' ? 'released' : '' };
}

export function BoardCell({
  cell,
  booking,
  zone,
  selected,
  onChoose,
}: {
  cell: Cell;
  booking: BoardAppointment | undefined;
  zone: string;
  selected: boolean;
  onChoose: (cell: Cell, booking: BoardAppointment | undefined) => void;
}) {
  const detail = cellDetail(cell, booking, zone);
  const said = [STATE_LABEL[cell.state], cell.state === 'LOCKED' ? 'by' : '', detail.who ?? '', detail.note]
    .filter(Boolean)
    .join(' ');
  const bookable = cell.state === 'AVAILABLE' && detail.note !== 'past';
  const openable = cell.state === 'BOOKED' && !!booking;
  const body = (
    <>
      <span className="cell-head">
        <span className="cell-time">{cell.startTime}</span>{' '}
        <span className="cell-state">{STATE_LABEL[cell.state]}</span>
      </span>{' '}
      {detail.who && <span className="cell-who">{detail.who}</span>}{' '}
      {detail.note && <span className="cell-detail">{detail.note}</span>}
      {booking?.checkedInAt && cell.state === 'BOOKED' && <span className="cell-detail">arrived</span>}
    </>
  );
  return (
    <li
      className={`board-cell state-${cell.state.toLowerCase()}${cell.lastAt ? ' changed' : ''}${detail.note === 'past' ? ' past' : ''}${selected ? ' selected' : ''}`}
      data-testid="board-cell"
      data-slot-id={cell.id}
      data-state={cell.state}
      data-event={cell.lastKind}
      data-holder={detail.who}
      data-appointment-id={cell.state === 'BOOKED' ? booking?.id : undefined}
      data-arrived={booking?.checkedInAt ? 'true' : undefined}
      title={`${cell.startTime}–${cell.endTime} (${zone}): ${said}`}
    >
      {bookable || openable ? (
        <button
          type="button"
          className="cell-button"
          aria-pressed={selected}
          onClick={() => onChoose(cell, booking)}
        >
          {body}
          {/* Named by what it shows (no aria-label that could mismatch it), then what it does. */}
          <span className="sr-only">{openable ? ', open the booking' : ', book for a patient'}</span>
        </button>
      ) : (
        body
      )}
    </li>
  );
}
