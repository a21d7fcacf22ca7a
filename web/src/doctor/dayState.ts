// The doctor's day: the date's appointments as read, with `appointmentUpdates` applied on
// top. Events received while a (re)load is in flight are applied again over its answer
// (each carries the whole appointment, so applying one twice is harmless).
import type { AppointmentEventData, BoardAppointment } from '../admin/operations';

type AppointmentEvent = AppointmentEventData['appointmentUpdates'];

export interface DayState {
  date: string;
  doctorId: string;
  ready: boolean;
  appointments: Record<string, BoardAppointment>;
  loadingSince: number | null;
  received: { receivedAt: number; event: AppointmentEvent }[];
}

export type DayAction =
  | { type: 'loading'; at: number }
  | { type: 'loaded'; issuedAt: number; appointments: BoardAppointment[] }
  | { type: 'event'; receivedAt: number; event: AppointmentEvent }
  | { type: 'changed'; appointment: BoardAppointment };

export function initialDay({ date, doctorId }: { date: string; doctorId: string }): DayState {
  return { date, doctorId, ready: false, appointments: {}, loadingSince: null, received: [] };
}

function put(state: DayState, appointment: BoardAppointment): DayState {
  const appointments = { ...state.appointments };
  // A reschedule can move it to another doctor or another day: then it leaves this list.
  if (appointment.doctor.id === state.doctorId && appointment.appointmentDate === state.date) {
    appointments[appointment.id] = appointment;
  } else {
    delete appointments[appointment.id];
  }
  return { ...state, appointments };
}

export function dayReducer(state: DayState, action: DayAction): DayState {
  switch (action.type) {
    case 'loading':
      return { ...state, loadingSince: action.at };
    case 'loaded': {
      let next: DayState = {
        ...state,
        ready: true,
        appointments: Object.fromEntries(action.appointments.map((a) => [a.id, a])),
        loadingSince: null,
        received: [],
      };
      for (const item of state.received) {
        if (item.receivedAt >= action.issuedAt) next = put(next, item.event.appointment);
      }
      return next;
    }
    case 'event': {
      const next = put(state, action.event.appointment);
      return state.loadingSince === null
        ? next
        : { ...next, received: [...state.received, { receivedAt: action.receivedAt, event: action.event }] };
    }
    case 'changed':
      return put(state, action.appointment);
  }
}

/** The day's appointments by start time ("HH:MM" in the doctor's zone sorts as text). */
export function ordered(state: DayState): BoardAppointment[] {
  return Object.values(state.appointments).sort((a, b) =>
    a.appointmentTime.localeCompare(b.appointmentTime),
  );
}
