// Doctors: create (optionally with a sign-in password), edit fee, timezone and booking
// policy, deactivate and reactivate.
import { useId, useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { knownTimeZones } from './dates';
import { FormError, invalid } from './forms';
import {
  CREATE_DOCTOR,
  MANAGED_DOCTORS,
  SPECIALTIES,
  UPDATE_DOCTOR,
  type DoctorFields,
  type ManagedDoctor,
  type Specialty,
} from './operations';

const NO_VARIABLES = {};

interface Draft {
  name: string;
  email: string;
  specialtyId: string;
  licenseNumber: string;
  phone: string;
  consultationFee: string;
  timezone: string;
  minNoticeMinutes: string;
  maxDaysAhead: string;
  password: string;
}

function draftOf(doctor: ManagedDoctor | null, specialties: Specialty[]): Draft {
  return {
    name: doctor?.name ?? '',
    email: doctor?.email ?? '',
    specialtyId: doctor?.specialty.id ?? specialties.find((s) => s.isActive)?.id ?? '',
    licenseNumber: doctor?.licenseNumber ?? '',
    phone: doctor?.phone ?? '',
    consultationFee: doctor ? String(doctor.consultationFee) : '0',
    timezone: doctor?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    minNoticeMinutes: doctor ? String(doctor.minNoticeMinutes) : '',
    maxDaysAhead: doctor ? String(doctor.maxDaysAhead) : '',
    password: '',
  };
}

function fieldsOf(draft: Draft): DoctorFields {
  const number = (text: string) => (text.trim() === '' ? null : Number(text));
  return {
    name: draft.name.trim(),
    email: draft.email.trim(),
    specialtyId: draft.specialtyId,
    licenseNumber: draft.licenseNumber.trim(),
    phone: draft.phone.trim() || null,
    consultationFee: Number(draft.consultationFee || 0),
    timezone: draft.timezone.trim() || null,
    minNoticeMinutes: number(draft.minNoticeMinutes),
    maxDaysAhead: number(draft.maxDaysAhead),
  };
}

function DoctorForm({
  initial,
  specialties,
  creating,
  busy,
  error,
  onSubmit,
  onCancel,
}: {
  initial: Draft;
  specialties: Specialty[];
  creating: boolean;
  busy: boolean;
  error: CombinedError | undefined;
  onSubmit: (draft: Draft) => void;
  onCancel?: () => void;
}) {
  const [draft, setDraft] = useState(initial);
  const zones = useMemo(knownTimeZones, []);
  const zoneList = useId();
  const set = (key: keyof Draft) => (event: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [key]: event.target.value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(draft);
  };

  return (
    <form onSubmit={submit} className="grid-form" aria-label={creating ? 'New doctor' : `Edit ${initial.name}`}>
      <label>
        Name
        <input name="doctor-name" value={draft.name} onChange={set('name')} required {...invalid(error, 'name')} />
      </label>
      <label>
        Email
        <input name="doctor-email" type="email" value={draft.email} onChange={set('email')} required {...invalid(error, 'email')} />
      </label>
      <label>
        Specialty
        <select name="doctor-specialty" value={draft.specialtyId} onChange={set('specialtyId')} required {...invalid(error, 'specialtyId')}>
          <option value="" disabled>
            Choose…
          </option>
          {specialties.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
              {s.isActive ? '' : ' (inactive)'}
            </option>
          ))}
        </select>
      </label>
      <label>
        Licence number
        <input name="doctor-license" value={draft.licenseNumber} onChange={set('licenseNumber')} required {...invalid(error, 'licenseNumber')} />
      </label>
      <label>
        Phone (optional)
        <input name="doctor-phone" type="tel" value={draft.phone} onChange={set('phone')} {...invalid(error, 'phone')} />
      </label>
      <label>
        Consultation fee
        <input
          name="doctor-fee"
          type="number"
          min="0"
          step="0.01"
          inputMode="decimal"
          value={draft.consultationFee}
          onChange={set('consultationFee')}
          {...invalid(error, 'consultationFee')}
        />
      </label>
      <label>
        Timezone (IANA)
        <input
          name="doctor-timezone"
          list={zoneList}
          value={draft.timezone}
          onChange={set('timezone')}
          {...invalid(error, 'timezone')}
        />
        <datalist id={zoneList}>
          {zones.map((zone) => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
      </label>
      <label>
        Minimum notice, minutes (blank: clinic default)
        <input
          name="doctor-min-notice"
          type="number"
          min="0"
          value={draft.minNoticeMinutes}
          onChange={set('minNoticeMinutes')}
          {...invalid(error, 'minNoticeMinutes')}
        />
      </label>
      <label>
        Books up to, days ahead (blank: clinic default)
        <input
          name="doctor-max-days"
          type="number"
          min="1"
          value={draft.maxDaysAhead}
          onChange={set('maxDaysAhead')}
          {...invalid(error, 'maxDaysAhead')}
        />
      </label>
      {creating && (
        <label>
          Sign-in password for the doctor (optional)
          <input
            name="doctor-password"
            type="password"
            autoComplete="new-password"
            value={draft.password}
            onChange={set('password')}
            {...invalid(error, 'password')}
          />
        </label>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy}>
          {creating ? 'Add doctor' : 'Save'}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
      <FormError error={error} />
    </form>
  );
}

/** A time zone move answers after its first days; the rest follow in the background. */
function regenerating(from: string, timeZone: string): string {
  const day = new Date(from).toLocaleDateString(undefined, { timeZone, dateStyle: 'medium' });
  return `Its slots from ${day} on are being moved to ${timeZone}; patients can book them again in about a minute.`;
}

function DoctorRow({
  doctor,
  specialties,
  onSaved,
}: {
  doctor: ManagedDoctor;
  specialties: Specialty[];
  onSaved: (message: string) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [update, run] = useMutation(UPDATE_DOCTOR);

  const save = async (draft: Draft) => {
    const result = await run({ id: doctor.id, input: fieldsOf(draft) });
    if (!result.error) {
      setEditing(false);
      const saved = result.data?.updateDoctor;
      onSaved(
        saved?.slotsRegeneratingFrom
          ? `${draft.name} saved. ${regenerating(saved.slotsRegeneratingFrom, saved.timezone)}`
          : `${draft.name} saved.`,
      );
    }
  };
  const toggle = async () => {
    const result = await run({ id: doctor.id, input: { isActive: !doctor.isActive } });
    if (!result.error) onSaved(`${doctor.name} ${doctor.isActive ? 'deactivated' : 'activated'}.`);
  };

  return (
    <li data-testid="doctor-row" data-doctor-id={doctor.id} data-active={doctor.isActive}>
      <div className="row-line">
        <span>
          <strong>{doctor.name}</strong> <span className="muted">{doctor.specialty.name}</span>
          {!doctor.isActive && <span className="tag">inactive</span>}
          {doctor.slotsRegeneratingFrom && (
            <span className="tag" title={regenerating(doctor.slotsRegeneratingFrom, doctor.timezone)}>
              slots moving to {doctor.timezone}
            </span>
          )}
          <br />
          <span className="muted">
            fee {doctor.consultationFee.toFixed(2)} · {doctor.timezone} · notice {doctor.minNoticeMinutes} min ·{' '}
            up to {doctor.maxDaysAhead} days ahead · {doctor.email}
          </span>
        </span>
        <span className="row-actions">
          <button type="button" onClick={() => setEditing((e) => !e)} aria-expanded={editing} aria-label={`Edit ${doctor.name}`}>
            Edit
          </button>
          <button
            type="button"
            onClick={() => void toggle()}
            disabled={update.fetching}
            aria-label={`${doctor.isActive ? 'Deactivate' : 'Activate'} ${doctor.name}`}
          >
            {doctor.isActive ? 'Deactivate' : 'Activate'}
          </button>
        </span>
      </div>
      {editing ? (
        <DoctorForm
          initial={draftOf(doctor, specialties)}
          specialties={specialties}
          creating={false}
          busy={update.fetching}
          error={update.error}
          onSubmit={(draft) => void save(draft)}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <FormError error={update.error} />
      )}
    </li>
  );
}

export function DoctorsPanel() {
  const [doctors, refetch] = useQuery({ query: MANAGED_DOCTORS, variables: NO_VARIABLES, requestPolicy: 'cache-and-network' });
  const [specialtyList] = useQuery({ query: SPECIALTIES, variables: NO_VARIABLES, requestPolicy: 'cache-and-network' });
  const [created, create] = useMutation(CREATE_DOCTOR);
  const [formKey, setFormKey] = useState(0);
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState('');
  const specialties = specialtyList.data?.specialties ?? [];
  const reload = () => refetch({ requestPolicy: 'network-only' });

  const add = async (draft: Draft) => {
    const result = await create({ input: { ...fieldsOf(draft), password: draft.password || null } });
    if (!result.error && result.data) {
      setNotice(`Doctor ${result.data.createDoctor.name} added.`);
      setFormKey((k) => k + 1); // a fresh, empty form
      reload();
    }
  };

  return (
    <section className="panel" aria-labelledby="doctors-title">
      <h2 id="doctors-title">Doctors</h2>
      <button
        type="button"
        className="primary"
        aria-expanded={adding}
        aria-controls="new-doctor"
        onClick={() => setAdding((open) => !open)}
      >
        New doctor
      </button>
      {adding && specialtyList.data && (
        <div id="new-doctor">
          <DoctorForm
            key={formKey}
            initial={draftOf(null, specialties)}
            specialties={specialties}
            creating
            busy={created.fetching}
            error={created.error}
            onSubmit={(draft) => void add(draft)}
            onCancel={() => setAdding(false)}
          />
        </div>
      )}
      <p role="status" className="notice">
        {notice}
      </p>
      {doctors.error && <FormError error={doctors.error} />}
      <ul className="managed-list" data-testid="doctor-list">
        {doctors.data?.doctors.map((d) => (
          <DoctorRow
            // By id only: a refetch must not close a form being filled in.
            key={d.id}
            doctor={d}
            specialties={specialties}
            onSaved={(message) => {
              setNotice(message);
              reload();
            }}
          />
        ))}
      </ul>
    </section>
  );
}
