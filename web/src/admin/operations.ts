// GraphQL operations of the admin views, with hand-written result types: the schema is
// small and stable (docs/API.md), so a code generator would add a build step for little gain.
import { gql } from 'urql';

export type SlotState = 'AVAILABLE' | 'LOCKED' | 'BOOKED' | 'UNAVAILABLE';
export type AppointmentStatus =
  | 'SCHEDULED'
  | 'CONFIRMED'
  | 'IN_PROGRESS'
  | 'COMPLETED'
  | 'CANCELLED'
  | 'NO_SHOW';
export type Weekday =
  | 'MONDAY'
  | 'TUESDAY'
  | 'WEDNESDAY'
  | 'THURSDAY'
  | 'FRIDAY'
  | 'SATURDAY'
  | 'SUNDAY';

export const WEEKDAYS: Weekday[] = [
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
  'SUNDAY',
];

export interface Person {
  id: string;
  name: string;
  email?: string;
}

export interface BoardSlot {
  id: string;
  date: string;
  startTime: string;
  endTime: string;
  startsAt: string;
  state: SlotState;
  doctor: { id: string };
  lock: { expiresAt: string; patient: Person | null } | null;
}

export interface BoardDoctor {
  id: string;
  name: string;
  timezone: string;
  specialty: { id: string; name: string };
  daySlots: BoardSlot[];
}

export interface BoardAppointment {
  id: string;
  status: AppointmentStatus;
  appointmentDate: string;
  appointmentTime: string;
  endTime: string;
  reasonForVisit: string | null;
  notes: string | null;
  startsAt: string;
  checkedInAt: string | null;
  /** When it was marked a no-show: the undo is open for 24 hours from then. */
  noShowAt: string | null;
  patient: Person & { phone: string | null };
  doctor: { id: string; name: string; timezone: string };
  slot: { id: string };
}

const SLOT_FIELDS = `
  id date startTime endTime startsAt state
  doctor { id }
  lock { expiresAt patient { id name email } }
`;

const APPOINTMENT_FIELDS = `
  id status appointmentDate appointmentTime endTime reasonForVisit notes startsAt checkedInAt noShowAt
  patient { id name email phone }
  doctor { id name timezone }
  slot { id }
`;

export const BOARD_DOCTORS = gql<{ doctors: BoardDoctor[] }, { date: string }>`
  query AdminBoardDoctors($date: Date!) {
    doctors {
      id name timezone
      specialty { id name }
      daySlots(date: $date) { ${SLOT_FIELDS} }
    }
  }
`;

export interface AppointmentPage {
  appointments: {
    edges: { node: BoardAppointment }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

export const DAY_APPOINTMENTS = gql<
  AppointmentPage,
  { date: string; doctorId?: string | null; after?: string | null }
>`
  query DayAppointments($date: Date!, $doctorId: ID, $after: String) {
    appointments(from: $date, to: $date, doctorId: $doctorId, first: 100, after: $after) {
      edges { node { ${APPOINTMENT_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export type SlotEventKind =
  | 'ADDED'
  | 'REMOVED'
  | 'LOCKED'
  | 'UNLOCKED'
  | 'BOOKED'
  | 'RELEASED'
  | 'AVAILABILITY_CHANGED';

export interface SlotEventData {
  slotUpdates: { kind: SlotEventKind; at: string; slot: BoardSlot };
}

export const SLOT_EVENTS = gql<SlotEventData, { date: string }>`
  subscription AdminSlotEvents($date: Date!) {
    slotUpdates(date: $date) {
      kind at
      slot { ${SLOT_FIELDS} }
    }
  }
`;

export type AppointmentEventKind =
  | 'CREATED'
  | 'CONFIRMED'
  | 'CANCELLED'
  | 'STATUS_CHANGED'
  | 'RESCHEDULED';

export interface AppointmentEventData {
  appointmentUpdates: {
    kind: AppointmentEventKind;
    at: string;
    appointment: BoardAppointment;
  };
}

export const APPOINTMENT_EVENTS = gql<AppointmentEventData, { doctorId?: string | null }>`
  subscription AppointmentEvents($doctorId: ID) {
    appointmentUpdates(doctorId: $doctorId) {
      kind at
      appointment { ${APPOINTMENT_FIELDS} }
    }
  }
`;

export interface Emergency {
  id: string;
  message: string;
  createdAt: string;
  patient: Person & { phone: string | null };
  specialty: { id: string; name: string } | null;
  doctor: { id: string; name: string } | null;
}

export const EMERGENCY_REQUESTS = gql<{ emergencyRequests: Emergency }, Record<string, never>>`
  subscription EmergencyRequests {
    emergencyRequests {
      id message createdAt
      patient { id name email phone }
      specialty { id name }
      doctor { id name }
    }
  }
`;

/** Said when this server may have missed or delayed events of the other subscriptions. */
export const EVENTS_MISSED = gql<{ eventsMissed: { at: string; reason: string } }, Record<string, never>>`
  subscription StaffEventsMissed {
    eventsMissed { at reason }
  }
`;

// --- Management ---------------------------------------------------------------------

export interface Specialty {
  id: string;
  name: string;
  description: string | null;
  isActive: boolean;
}

export const SPECIALTIES = gql<{ specialties: Specialty[] }, Record<string, never>>`
  query AdminSpecialties {
    specialties(includeInactive: true) { id name description isActive }
  }
`;

export const CREATE_SPECIALTY = gql<
  { createSpecialty: Specialty },
  { input: { name: string; description: string | null } }
>`
  mutation CreateSpecialty($input: SpecialtyInput!) {
    createSpecialty(input: $input) { id name description isActive }
  }
`;

export const UPDATE_SPECIALTY = gql<
  { updateSpecialty: Specialty },
  { id: string; input: { name?: string; description?: string | null; isActive?: boolean } }
>`
  mutation UpdateSpecialty($id: ID!, $input: SpecialtyUpdateInput!) {
    updateSpecialty(id: $id, input: $input) { id name description isActive }
  }
`;

export interface ManagedDoctor {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  licenseNumber: string;
  consultationFee: number;
  timezone: string;
  isActive: boolean;
  minNoticeMinutes: number;
  maxDaysAhead: number;
  updatedAt: string;
  /** Set while a time zone change regenerates the doctor's later slots. */
  slotsRegeneratingFrom: string | null;
  specialty: { id: string; name: string };
}

const MANAGED_DOCTOR_FIELDS = `
  id name email phone licenseNumber consultationFee timezone isActive
  minNoticeMinutes maxDaysAhead updatedAt slotsRegeneratingFrom
  specialty { id name }
`;

export const MANAGED_DOCTORS = gql<{ doctors: ManagedDoctor[] }, Record<string, never>>`
  query AdminDoctors {
    doctors(includeInactive: true) { ${MANAGED_DOCTOR_FIELDS} }
  }
`;

export interface DoctorFields {
  name: string;
  email: string;
  specialtyId: string;
  licenseNumber: string;
  phone: string | null;
  consultationFee: number;
  timezone: string | null;
  minNoticeMinutes: number | null;
  maxDaysAhead: number | null;
}

export const CREATE_DOCTOR = gql<
  { createDoctor: ManagedDoctor },
  { input: DoctorFields & { password: string | null } }
>`
  mutation CreateDoctor($input: DoctorInput!) {
    createDoctor(input: $input) { ${MANAGED_DOCTOR_FIELDS} }
  }
`;

export const UPDATE_DOCTOR = gql<
  { updateDoctor: ManagedDoctor },
  { id: string; input: Partial<DoctorFields> & { isActive?: boolean } }
>`
  mutation UpdateDoctor($id: ID!, $input: DoctorUpdateInput!) {
    updateDoctor(id: $id, input: $input) { ${MANAGED_DOCTOR_FIELDS} }
  }
`;

export interface TimeRange {
  start: string;
  end: string;
}

export interface Schedule {
  slotMinutes: number;
  bufferMinutes: number;
  weekly: { weekday: Weekday; ranges: TimeRange[] }[];
  validFrom: string;
  validUntil: string | null;
  updatedAt: string;
}

export interface DateOverride {
  date: string;
  ranges: TimeRange[];
  reason: string | null;
}

export const DOCTOR_SCHEDULE = gql<
  {
    doctor: {
      id: string;
      name: string;
      timezone: string;
      schedule: Schedule | null;
      dateOverrides: DateOverride[];
    } | null;
  },
  { id: string; from: string; to: string }
>`
  query DoctorSchedule($id: ID!, $from: Date!, $to: Date!) {
    doctor(id: $id) {
      id name timezone
      schedule {
        slotMinutes bufferMinutes validFrom validUntil updatedAt
        weekly { weekday ranges { start end } }
      }
      dateOverrides(from: $from, to: $to) { date reason ranges { start end } }
    }
  }
`;

export interface ScheduleChange {
  slotsAdded: number;
  slotsRemoved: number;
  horizonEnd: string;
  conflicts: {
    id: string;
    appointmentDate: string;
    appointmentTime: string;
    patient: Person;
  }[];
}

const CHANGE_FIELDS = `
  slotsAdded slotsRemoved horizonEnd
  conflicts { id appointmentDate appointmentTime patient { id name } }
`;

export interface ScheduleInput {
  slotMinutes: number;
  bufferMinutes: number;
  weekly: { weekday: Weekday; ranges: TimeRange[] }[];
  validFrom: string | null;
  validUntil: string | null;
}

export const SET_SCHEDULE = gql<
  { setSchedule: ScheduleChange },
  { doctorId: string; input: ScheduleInput }
>`
  mutation SetSchedule($doctorId: ID!, $input: ScheduleInput!) {
    setSchedule(doctorId: $doctorId, input: $input) { ${CHANGE_FIELDS} }
  }
`;

export const SET_DATE_OVERRIDE = gql<
  { setDateOverride: ScheduleChange },
  { doctorId: string; date: string; ranges: TimeRange[]; reason: string | null }
>`
  mutation SetDateOverride($doctorId: ID!, $date: Date!, $ranges: [TimeRangeInput!]!, $reason: String) {
    setDateOverride(doctorId: $doctorId, date: $date, ranges: $ranges, reason: $reason) { ${CHANGE_FIELDS} }
  }
`;

export const CLEAR_DATE_OVERRIDE = gql<
  { clearDateOverride: ScheduleChange },
  { doctorId: string; date: string }
>`
  mutation ClearDateOverride($doctorId: ID!, $date: Date!) {
    clearDateOverride(doctorId: $doctorId, date: $date) { ${CHANGE_FIELDS} }
  }
`;

export const UPDATE_STATUS = gql<
  { updateAppointmentStatus: BoardAppointment },
  { id: string; status: AppointmentStatus; notes?: string | null }
>`
  mutation UpdateAppointmentStatus($id: ID!, $status: AppointmentStatus!, $notes: String) {
    updateAppointmentStatus(id: $id, status: $status, notes: $notes) { ${APPOINTMENT_FIELDS} }
  }
`;

export const CHECK_IN_VISIT = gql<{ checkInAppointment: BoardAppointment }, { id: string }>`
  mutation CheckInVisit($id: ID!) {
    checkInAppointment(id: $id) { ${APPOINTMENT_FIELDS} }
  }
`;

export interface Me {
  id: string;
  name: string;
  role: 'ADMIN' | 'DOCTOR' | 'PATIENT';
  /** IANA: the zone every time shown to this user is told in (User.timezone). */
  timezone: string;
  doctor: { id: string; name: string; timezone: string; specialty: { name: string } } | null;
}

export const ME = gql<{ me: Me | null }, Record<string, never>>`
  query StaffMe {
    me { id name role timezone doctor { id name timezone specialty { name } } }
  }
`;

export type DeliveryStatus = 'PENDING' | 'SENT' | 'FAILED' | 'SKIPPED';

/** A notification as the admin sees it: who it was for, and why it has not arrived. */
export interface Delivery {
  id: string;
  kind: string;
  channel: 'IN_APP' | 'EMAIL' | 'WEBHOOK';
  status: DeliveryStatus;
  subject: string;
  recipient: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

const DELIVERY_FIELDS = 'id kind channel status subject recipient attempts lastError createdAt sentAt';

export const FAILED_DELIVERIES = gql<
  { notificationDeliveries: { edges: { node: Delivery }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } },
  { after?: string | null }
>`
  query FailedDeliveries($after: String) {
    notificationDeliveries(status: FAILED, first: 50, after: $after) {
      edges { node { ${DELIVERY_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const RETRY_DELIVERY = gql<{ retryNotification: Delivery }, { id: string }>`
  mutation RetryDelivery($id: ID!) {
    retryNotification(id: $id) { ${DELIVERY_FIELDS} }
  }
`;
