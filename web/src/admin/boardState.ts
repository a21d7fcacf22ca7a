// The live board's state: what a query read, with the subscription's events applied on top.
//
// Events and queries race: an event can arrive while a (re)load is in flight, and the
// load's answer may or may not include its change. So events received since the load was
// sent are kept and applied again over its answer; each event carries the whole slot or
// appointment, so applying one twice is harmless.
import type {
  AppointmentEventData,
  BoardAppointment,
  BoardDoctor,
  BoardSlot,
  SlotEventData,
  SlotEventKind,
} from './operations';

export interface Cell extends BoardSlot {
  lastKind?: SlotEventKind;
  lastAt?: string;
}

export type DoctorRow = Omit<BoardDoctor, 'daySlots'>;

type SlotEvent = SlotEventData['slotUpdates'];
type AppointmentEvent = AppointmentEventData['appointmentUpdates'];

type Received =
  | { receivedAt: number; slotEvent: SlotEvent }
  | { receivedAt: number; appointmentEvent: AppointmentEvent };

export interface BoardState {
  date: string;
  ready: boolean;
  doctors: DoctorRow[];
  cells: Record<string, Cell>;
  /** Active appointments of the date, by slot id: who booked a BOOKED cell. */
  bookings: Record<string, BoardAppointment>;
  loadingSince: number | null;
  received: Received[];
}

export type BoardAction =
  | { type: 'loading'; at: number }
  | {
      type: 'loaded';
      issuedAt: number;
      doctors: BoardDoctor[];
      appointments: BoardAppointment[];
    }
  | { type: 'slot'; receivedAt: number; event: SlotEvent }
  | { type: 'appointment'; receivedAt: number; event: AppointmentEvent };

export function initialBoard(date: string): BoardState {
  return {
    date,
    ready: false,
    doctors: [],
    cells: {},
    bookings: {},
    loadingSince: null,
    received: [],
  };
}

function applySlot(state: BoardState, event: SlotEvent): BoardState {
  const slot = event.slot;
  if (slot.date !== state.date) return state;
  const cells = { ...state.cells };
  if (event.kind === 'REMOVED') delete cells[slot.id];
  else cells[slot.id] = { ...slot, lastKind: event.kind, lastAt: event.at };
  return { ...state, cells };
}

function applyAppointment(state: BoardState, event: AppointmentEvent): BoardState {
  const appointment = event.appointment;
  const bookings: Record<string, BoardAppointment> = {};
  for (const [slotId, booking] of Object.entries(state.bookings)) {
    if (booking.id !== appointment.id) bookings[slotId] = booking;
  }
  if (appointment.status !== 'CANCELLED' && appointment.appointmentDate === state.date) {
    bookings[appointment.slot.id] = appointment;
  }
  return { ...state, bookings };
}

export function boardReducer(state: BoardState, action: BoardAction): BoardState {
  switch (action.type) {
    case 'loading':
      return { ...state, loadingSince: action.at };
    case 'loaded': {
      let next: BoardState = {
        ...state,
        ready: true,
        doctors: action.doctors
          .map(({ daySlots: _slots, ...doctor }) => doctor)
          .sort((a, b) => a.name.localeCompare(b.name)),
        cells: Object.fromEntries(
          action.doctors.flatMap((d) => d.daySlots).map((slot) => [slot.id, slot]),
        ),
        bookings: Object.fromEntries(
          action.appointments
            .filter((a) => a.status !== 'CANCELLED')
            .map((a) => [a.slot.id, a]),
        ),
        loadingSince: null,
        received: [],
      };
      for (const item of state.received) {
        if (item.receivedAt < action.issuedAt) continue;
        next =
          'slotEvent' in item
            ? applySlot(next, item.slotEvent)
            : applyAppointment(next, item.appointmentEvent);
      }
      return next;
    }
    case 'slot': {
      const next = applySlot(state, action.event);
      return state.loadingSince === null
        ? next
        : {
            ...next,
            received: [...state.received, { receivedAt: action.receivedAt, slotEvent: action.event }],
          };
    }
    case 'appointment': {
      const next = applyAppointment(state, action.event);
      return state.loadingSince === null
        ? next
        : {
            ...next,
            received: [
              ...state.received,
              { receivedAt: action.receivedAt, appointmentEvent: action.event },
            ],
          };
    }
  }
}

/** A doctor's cells of the day, by start. */
export function cellsOf(state: BoardState, doctorId: string): Cell[] {
  return Object.values(state.cells)
    .filter((cell) => cell.doctor.id === doctorId)
    .sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
}
