/** Specialty, then doctor: each doctor with its fee and time zone. */
import { useMemo } from 'react';
import { useQuery } from 'urql';
import { zoneLabel } from '../lib/time';
import { DOCTORS, SPECIALTIES, type DoctorSummary, type Specialty } from './operations';

/** A fee in its currency (ISO 4217, the clinic's), with the browser's number formatting. */
function fee(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, minimumFractionDigits: 0 }).format(amount);
  } catch {
    return `${amount} ${currency}`; // a code this browser does not know
  }
}

interface Props {
  specialtyId: string;
  doctorId: string | null;
  onSpecialty: (id: string) => void;
  onDoctor: (doctor: DoctorSummary) => void;
  /** While rescheduling: a move stays within the appointment's specialty. */
  specialtyFixed?: boolean;
  /** Hold the lists back while a deep link's grid loads. */
  later?: boolean;
}

export default function DoctorPicker({
  specialtyId,
  doctorId,
  onSpecialty,
  onDoctor,
  specialtyFixed = false,
  later = false,
}: Props) {
  const [specialties] = useQuery<{ specialties: Specialty[] }>({
    query: SPECIALTIES,
    pause: later,
  });
  const [doctors] = useQuery<{ doctors: DoctorSummary[] }>({
    query: DOCTORS,
    variables: useMemo(() => ({ specialtyId: specialtyId || null }), [specialtyId]),
    pause: later,
  });
  const list = doctors.data?.doctors ?? [];
  return (
    <section className="pp-card" aria-labelledby="pp-find-title">
      <h2 id="pp-find-title">Find a doctor</h2>
      <label htmlFor="pp-specialty">Specialty</label>
      <select
        id="pp-specialty"
        data-testid="specialty-select"
        value={specialtyId}
        disabled={specialtyFixed}
        onChange={(e) => onSpecialty(e.target.value)}
      >
        <option value="">All specialties</option>
        {(specialties.data?.specialties ?? []).map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
      <fieldset className="pp-doctors">
        <legend>Doctor</legend>
        {doctors.fetching && !list.length && <p className="pp-muted">Loading doctors…</p>}
        {doctors.data && !list.length && <p className="pp-muted">No doctors in this specialty.</p>}
        {list.map((d) => (
          <label key={d.id} className="pp-doctor" data-testid="doctor-option" data-doctor-id={d.id}>
            <input
              type="radio"
              name="pp-doctor"
              value={d.id}
              checked={d.id === doctorId}
              onChange={() => onDoctor(d)}
            />
            <span>
              <strong>{d.name}</strong> · {d.specialty.name}
              <br />
              <span className="pp-muted">
                Fee {fee(d.consultationFee, d.consultationFeeCurrency)} · {zoneLabel(d.timezone)}
              </span>
            </span>
          </label>
        ))}
      </fieldset>
    </section>
  );
}
