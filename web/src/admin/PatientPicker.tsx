// Finding the patient the front desk books for: search as you type (`patients(search:)`), or
// register a walk-in inline (`registerPatient`) when no one matches.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { localZone } from '../lib/time';
import { FormError, invalid } from './forms';
import { FIND_PATIENTS, REGISTER_PATIENT, type PatientHit } from './frontDesk';

const SEARCH_DELAY_MS = 250;

/** The search typed, once it has settled: one request per pause, not per key. */
function useSettled(value: string): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), SEARCH_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [value]);
  return settled;
}

function NewPatientForm({
  initialName,
  onRegistered,
  onCancel,
}: {
  initialName: string;
  onRegistered: (patient: PatientHit) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(initialName);
  const [phone, setPhone] = useState('');
  const [email, setEmail] = useState('');
  const [registration, register] = useMutation(REGISTER_PATIENT);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await register({
      input: { name: name.trim(), phone: phone.trim() || null, email: email.trim() || null, timezone: localZone() },
    });
    if (result.data) onRegistered(result.data.registerPatient);
  };

  return (
    <form onSubmit={submit} className="new-patient" data-testid="new-patient-form" aria-label="New patient">
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus {...invalid(registration.error, 'name')} />
      </label>
      <label>
        Phone
        <input
          type="tel"
          value={phone}
          onChange={(e) => setPhone(e.target.value)}
          autoComplete="off"
          {...invalid(registration.error, 'phone')}
        />
      </label>
      <label>
        Email (optional)
        <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} {...invalid(registration.error, 'email')} />
      </label>
      <p className="muted">A phone or an email is needed; a phone without a country code is read as local.</p>
      <FormError error={registration.error} />
      <div className="row-actions">
        <button type="submit" className="primary" disabled={registration.fetching}>
          Register patient
        </button>
        <button type="button" onClick={onCancel}>
          Back to search
        </button>
      </div>
    </form>
  );
}

export function PatientPicker({ onPick }: { onPick: (patient: PatientHit) => void }) {
  const [typed, setTyped] = useState('');
  const [creating, setCreating] = useState(false);
  const search = useSettled(typed.trim());
  const listId = useId();
  const [found] = useQuery({
    query: FIND_PATIENTS,
    variables: { search },
    pause: search.length < 2,
    requestPolicy: 'network-only',
  });
  const hits = search.length >= 2 ? (found.data?.patients.edges.map((e) => e.node) ?? []) : [];

  if (creating) {
    return <NewPatientForm initialName={typed} onRegistered={onPick} onCancel={() => setCreating(false)} />;
  }
  return (
    <div className="patient-picker" data-testid="patient-picker">
      <label>
        Find a patient
        <input
          type="search"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          placeholder="Name, phone or email"
          aria-describedby={listId}
          autoFocus
        />
      </label>
      <div id={listId} aria-live="polite">
        {search.length >= 2 && !found.fetching && !found.error && hits.length === 0 && (
          <p className="muted">No patient matches “{search}”.</p>
        )}
        {found.error && <FormError error={found.error} />}
        {hits.length > 0 && <p className="visually-hidden">{hits.length} patients found</p>}
      </div>
      {hits.length > 0 && (
        <ul className="patient-hits" aria-label="Patients found">
          {hits.map((p) => (
            <li key={p.id}>
              <button type="button" data-testid="patient-hit" data-patient-id={p.id} onClick={() => onPick(p)}>
                <strong>{p.name}</strong>
                <span className="muted"> {[p.phone, p.email].filter(Boolean).join(' · ')}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <button type="button" onClick={() => setCreating(true)}>
        New patient
      </button>
    </div>
  );
}
