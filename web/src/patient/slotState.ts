/** What a patient can do with each time of a day, from the slot's server state, its lock and
 * the doctor's booking window (the server decides in the end; this only greys out early). */
import type { DoctorSummary, Slot } from './operations';

export type CellState =
  | 'AVAILABLE'
  | 'MINE'
  | 'YOURS'
  | 'LOCKED'
  | 'BOOKED'
  | 'UNAVAILABLE'
  | 'PAST'
  | 'OUTSIDE_WINDOW';

/** `mySlotIds`: the slots of the patient's own active appointments (a slot does not say who
 * booked it), shown as "Yours" rather than "Taken". */
export function cellState(
  slot: Slot,
  doctor: DoctorSummary,
  now: number,
  mySlotIds?: ReadonlySet<string>,
): CellState {
  const start = Date.parse(slot.startsAt);
  if (slot.state === 'BOOKED' && mySlotIds?.has(slot.id)) return 'YOURS';
  if (slot.state === 'LOCKED' && slot.lock && Date.parse(slot.lock.expiresAt) > now) {
    return slot.lock.lockedByMe ? 'MINE' : 'LOCKED';
  }
  if (slot.state === 'BOOKED' || slot.state === 'UNAVAILABLE') return slot.state;
  if (start <= now) return 'PAST';
  const earliest = now + doctor.minNoticeMinutes * 60_000;
  const latest = now + doctor.maxDaysAhead * 86_400_000;
  if (start < earliest || start > latest) return 'OUTSIDE_WINDOW';
  return 'AVAILABLE';
}

export function pickable(state: CellState): boolean {
  return state === 'AVAILABLE' || state === 'MINE';
}

export const STATE_TEXT: Record<CellState, string> = {
  AVAILABLE: 'available',
  MINE: 'held by you',
  YOURS: 'your appointment',
  LOCKED: 'held by another patient',
  BOOKED: 'booked',
  UNAVAILABLE: 'not available',
  PAST: 'in the past',
  OUTSIDE_WINDOW: 'outside the booking window',
};

/** The short word shown in the cell under the time (colour alone would not say it). */
export const STATE_BADGE: Record<CellState, string> = {
  AVAILABLE: '',
  MINE: 'Your hold',
  YOURS: 'Yours',
  LOCKED: 'Held',
  BOOKED: 'Taken',
  UNAVAILABLE: 'Closed',
  PAST: 'Past',
  OUTSIDE_WINDOW: 'Not yet',
};

export interface Seen {
  slot: Slot;
  seenAt: number;
  removed: boolean;
}

export type SlotEvents = Record<string, Seen>;

/** The grid's live view: the day's query snapshot, with each later slot event laid over it.
 * The newer `updatedAt` wins; on a tie, the later observation (a lock can lapse without a
 * write, so the same version may read LOCKED first and AVAILABLE later). */
export function mergeSlots(snapshot: Slot[], snapshotAt: number, events: SlotEvents): Slot[] {
  const byId = new Map<string, Slot>();
  for (const slot of snapshot) byId.set(slot.id, slot);
  for (const [id, seen] of Object.entries(events)) {
    const base = byId.get(id);
    if (!base) {
      // Not in the snapshot: added since it was read, unless the snapshot is the later look.
      if (!seen.removed && seen.seenAt > snapshotAt) byId.set(id, seen.slot);
      continue;
    }
    const a = Date.parse(seen.slot.updatedAt);
    const b = Date.parse(base.updatedAt);
    if (a > b || (a === b && seen.seenAt > snapshotAt)) {
      if (seen.removed) byId.delete(id);
      else byId.set(id, seen.slot);
    }
  }
  return [...byId.values()].sort((x, y) => Date.parse(x.startsAt) - Date.parse(y.startsAt));
}
