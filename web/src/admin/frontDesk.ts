// GraphQL operations of the front desk on the board: find or register a patient, hold and book a
// free time for them, and open a booking (its history and actions) to act on it.
import { gql } from 'urql';
import type { AppointmentStatus, BoardSlot } from './operations';

export interface PatientHit {
  id: string;
  name: string;
  email: string | null;
  phone: string | null;
}

const PATIENT_FIELDS = 'id name email phone';

export const FIND_PATIENTS = gql<
  { patients: { edges: { node: PatientHit }[] } },
  { search: string }
>`
  query FrontDeskPatients($search: String!) {
    patients(search: $search, first: 8) { edges { node { ${PATIENT_FIELDS} } } }
  }
`;

export const REGISTER_PATIENT = gql<
  { registerPatient: PatientHit },
  { input: { name: string; phone?: string | null; email?: string | null; timezone?: string } }
>`
  mutation FrontDeskRegisterPatient($input: PatientInput!) {
    registerPatient(input: $input) { ${PATIENT_FIELDS} }
  }
`;

export const HOLD_FOR = gql<
  { lockSlot: Pick<BoardSlot, 'id' | 'state' | 'lock'> },
  { slotId: string; patientId: string; idempotencyKey: string }
>`
  mutation FrontDeskHold($slotId: ID!, $patientId: ID!, $idempotencyKey: String) {
    lockSlot(slotId: $slotId, patientId: $patientId, idempotencyKey: $idempotencyKey) {
      id state lock { expiresAt patient { id name email } }
    }
  }
`;

export const RELEASE_HOLD = gql<{ unlockSlot: { id: string; state: string } }, { slotId: string }>`
  mutation FrontDeskRelease($slotId: ID!) {
    unlockSlot(slotId: $slotId) { id state }
  }
`;

export const BOOK_FOR = gql<
  { bookAppointment: { id: string; status: AppointmentStatus } },
  {
    input: {
      slotId: string;
      patientId: string;
      reasonForVisit: string | null;
      idempotencyKey: string;
    };
  }
>`
  mutation FrontDeskBook($input: BookAppointmentInput!) {
    bookAppointment(input: $input) { id status }
  }
`;

export interface HistoryEntry {
  id: string;
  at: string;
  action: string;
  actorRole: string | null;
  actor: { id: string; name: string } | null;
}

export interface OpenedAppointment {
  id: string;
  status: AppointmentStatus;
  appointmentDate: string;
  appointmentTime: string;
  endTime: string;
  startsAt: string;
  reasonForVisit: string | null;
  notes: string | null;
  checkedInAt: string | null;
  /** When it was marked a no-show; the mark can be undone for 24 hours from then. */
  noShowAt: string | null;
  cancellationReason: string | null;
  patient: PatientHit;
  doctor: { id: string; name: string; timezone: string };
  specialty: { id: string; name: string };
  slot: { id: string };
  history: HistoryEntry[];
}

const OPENED_FIELDS = `
  id status appointmentDate appointmentTime endTime startsAt reasonForVisit notes
  checkedInAt noShowAt cancellationReason
  patient { ${PATIENT_FIELDS} }
  doctor { id name timezone }
  specialty { id name }
  slot { id }
  history { id at action actorRole actor { id name } }
`;

export const OPEN_APPOINTMENT = gql<{ appointment: OpenedAppointment | null }, { id: string }>`
  query FrontDeskAppointment($id: ID!) {
    appointment(id: $id) { ${OPENED_FIELDS} }
  }
`;

export const CHECK_IN = gql<{ checkInAppointment: OpenedAppointment }, { id: string }>`
  mutation FrontDeskCheckIn($id: ID!) {
    checkInAppointment(id: $id) { ${OPENED_FIELDS} }
  }
`;

export const CANCEL_FOR = gql<
  { cancelAppointment: OpenedAppointment },
  { id: string; reason: string | null; idempotencyKey: string }
>`
  mutation FrontDeskCancel($id: ID!, $reason: String, $idempotencyKey: String) {
    cancelAppointment(id: $id, reason: $reason, idempotencyKey: $idempotencyKey) { ${OPENED_FIELDS} }
  }
`;

export const RESCHEDULE_FOR = gql<
  { rescheduleAppointment: OpenedAppointment },
  { id: string; slotId: string; idempotencyKey: string }
>`
  mutation FrontDeskReschedule($id: ID!, $slotId: ID!, $idempotencyKey: String) {
    rescheduleAppointment(id: $id, slotId: $slotId, idempotencyKey: $idempotencyKey) { ${OPENED_FIELDS} }
  }
`;

/** A booking a day off (or one-day hours) would leave outside the doctor's hours. */
export interface AffectedAppointment {
  id: string;
  status: AppointmentStatus;
  appointmentTime: string;
  endTime: string;
  reasonForVisit: string | null;
  patient: PatientHit;
}

export const DOCTOR_DAY_BOOKINGS = gql<
  { appointments: { edges: { node: AffectedAppointment }[] } },
  { doctorId: string; date: string }
>`
  query DayOffBookings($doctorId: ID!, $date: Date!) {
    appointments(
      doctorId: $doctorId
      from: $date
      to: $date
      status: [SCHEDULED, CONFIRMED, IN_PROGRESS]
      first: 100
    ) {
      edges { node { id status appointmentTime endTime reasonForVisit patient { ${PATIENT_FIELDS} } } }
    }
  }
`;

export const CANCEL_AND_NOTIFY = gql<
  { cancelAppointment: { id: string; status: AppointmentStatus } },
  { id: string; reason: string | null; idempotencyKey: string }
>`
  mutation DayOffCancel($id: ID!, $reason: String, $idempotencyKey: String) {
    cancelAppointment(id: $id, reason: $reason, idempotencyKey: $idempotencyKey) { id status }
  }
`;
