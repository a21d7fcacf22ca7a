/** The patient portal's GraphQL operations and the result shapes it reads (hand-written: a
 * code generator would add a build step and a dependency for a dozen small documents). */
import { gql } from 'urql';

export type SlotState = 'AVAILABLE' | 'LOCKED' | 'BOOKED' | 'UNAVAILABLE';
export type AppointmentStatus =
  'SCHEDULED' | 'CONFIRMED' | 'IN_PROGRESS' | 'COMPLETED' | 'CANCELLED' | 'NO_SHOW';

export interface Specialty {
  id: string;
  name: string;
}

export interface DoctorSummary {
  id: string;
  name: string;
  consultationFee: number;
  consultationFeeCurrency: string;
  timezone: string;
  minNoticeMinutes: number;
  maxDaysAhead: number;
  specialty: Specialty;
}

export interface SlotLock {
  expiresAt: string;
  lockedByMe: boolean;
}

export interface Slot {
  id: string;
  date: string;
  startTime: string;
  endTime: string;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  state: SlotState;
  lock: SlotLock | null;
}

/** A held slot, with enough of its doctor to show it anywhere in the portal. */
export interface HeldSlot extends Slot {
  doctor: { id: string; name: string; timezone: string; specialty: Specialty };
}

export interface Appointment {
  id: string;
  status: AppointmentStatus;
  appointmentDate: string;
  appointmentTime: string;
  endTime: string;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  reasonForVisit: string | null;
  cancellationReason: string | null;
  slot: { id: string };
  doctor: { id: string; name: string; timezone: string; specialty: Specialty };
}

const SLOT_FIELDS = gql`
  fragment PatientSlot on Slot {
    id
    date
    startTime
    endTime
    startsAt
    endsAt
    updatedAt
    state
    lock {
      expiresAt
      lockedByMe
    }
  }
`;

const HELD_SLOT_FIELDS = gql`
  fragment PatientHeldSlot on Slot {
    ...PatientSlot
    doctor {
      id
      name
      timezone
      specialty {
        id
        name
      }
    }
  }
  ${SLOT_FIELDS}
`;

const APPOINTMENT_FIELDS = gql`
  fragment PatientAppointment on Appointment {
    id
    status
    appointmentDate
    appointmentTime
    endTime
    startsAt
    endsAt
    updatedAt
    reasonForVisit
    cancellationReason
    slot {
      id
    }
    doctor {
      id
      name
      timezone
      specialty {
        id
        name
      }
    }
  }
`;

const DOCTOR_FIELDS = gql`
  fragment PatientDoctor on Doctor {
    id
    name
    consultationFee
    consultationFeeCurrency
    timezone
    minNoticeMinutes
    maxDaysAhead
    specialty {
      id
      name
    }
  }
`;

/** The viewer's own zone: every time the portal shows is read in it. */
export const ME = gql`
  query PatientMe {
    me {
      id
      timezone
    }
  }
`;

/** The doctor's next free day, where the portal opens when no day was chosen. */
export const NEXT_FREE = gql`
  query PatientNextFree($id: ID!) {
    doctor(id: $id) {
      id
      nextAvailableSlot {
        id
        date
      }
    }
  }
`;

export const SPECIALTIES = gql`
  query PatientSpecialties {
    specialties {
      id
      name
    }
  }
`;

export const DOCTORS = gql`
  query PatientDoctors($specialtyId: ID) {
    doctors(specialtyId: $specialtyId) {
      ...PatientDoctor
    }
  }
  ${DOCTOR_FIELDS}
`;

export const DOCTOR = gql`
  query PatientDoctor($id: ID!) {
    doctor(id: $id) {
      ...PatientDoctor
    }
  }
  ${DOCTOR_FIELDS}
`;

export const AVAILABILITY = gql`
  query PatientAvailability($id: ID!, $from: Date!, $to: Date!) {
    doctor(id: $id) {
      id
      availability(from: $from, to: $to) {
        date
        bookable
      }
      nextAvailableSlot {
        id
        date
        startTime
        startsAt
      }
    }
  }
`;

export const DAY_SLOTS = gql`
  query PatientDaySlots($id: ID!, $date: Date!) {
    doctor(id: $id) {
      ...PatientDoctor
      daySlots(date: $date) {
        ...PatientSlot
      }
    }
  }
  ${DOCTOR_FIELDS}
  ${SLOT_FIELDS}
`;

export const SLOT_UPDATES = gql`
  subscription PatientSlotUpdates($doctorId: ID!, $date: Date!) {
    slotUpdates(doctorId: $doctorId, date: $date) {
      kind
      at
      slot {
        ...PatientSlot
      }
    }
  }
  ${SLOT_FIELDS}
`;

export const MY_LOCKS = gql`
  query PatientMyLocks {
    myLocks {
      ...PatientHeldSlot
    }
  }
  ${HELD_SLOT_FIELDS}
`;

export const LOCK_SLOT = gql`
  mutation PatientLockSlot($slotId: ID!, $idempotencyKey: String) {
    lockSlot(slotId: $slotId, idempotencyKey: $idempotencyKey) {
      ...PatientSlot
    }
  }
  ${SLOT_FIELDS}
`;

export const UNLOCK_SLOT = gql`
  mutation PatientUnlockSlot($slotId: ID!) {
    unlockSlot(slotId: $slotId) {
      ...PatientSlot
    }
  }
  ${SLOT_FIELDS}
`;

// The changing mutations answer with little on purpose: the client's document cache refetches
// the queries that hold the typenames of a mutation's answer, so an Appointment with its
// Doctor and Specialty would refetch the doctor list too. Appointment and Slot refresh exactly
// the lists a booking changes (my appointments, the day grid, the calendar counts).
export const BOOK = gql`
  mutation PatientBook($input: BookAppointmentInput!) {
    bookAppointment(input: $input) {
      id
      status
      updatedAt
      slot {
        id
        state
        updatedAt
      }
    }
  }
`;

export const MY_APPOINTMENTS = gql`
  query PatientMyAppointments {
    myAppointments {
      ...PatientAppointment
    }
  }
  ${APPOINTMENT_FIELDS}
`;

export const APPOINTMENT_UPDATES = gql`
  subscription PatientAppointmentUpdates {
    appointmentUpdates {
      kind
      at
      appointment {
        ...PatientAppointment
      }
    }
  }
  ${APPOINTMENT_FIELDS}
`;

export const CANCEL = gql`
  mutation PatientCancel($id: ID!, $reason: String, $idempotencyKey: String) {
    cancelAppointment(id: $id, reason: $reason, idempotencyKey: $idempotencyKey) {
      id
      status
      updatedAt
      slot {
        id
        state
        updatedAt
      }
    }
  }
`;

export const RESCHEDULE = gql`
  mutation PatientReschedule($id: ID!, $slotId: ID!, $idempotencyKey: String) {
    rescheduleAppointment(id: $id, slotId: $slotId, idempotencyKey: $idempotencyKey) {
      id
      status
      updatedAt
      slot {
        id
        state
        updatedAt
      }
    }
  }
`;

export const EMERGENCY = gql`
  mutation PatientEmergency($input: EmergencyRequestInput!) {
    sendEmergencyRequest(input: $input) {
      id
      createdAt
    }
  }
`;

/** "Re-query what you show": the server may have missed or delayed events (docs/API.md). */
export const EVENTS_MISSED = gql`
  subscription PatientEventsMissed {
    eventsMissed {
      at
      reason
    }
  }
`;
