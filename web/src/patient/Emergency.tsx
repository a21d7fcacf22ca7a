/** An urgent message to the clinic (sendEmergencyRequest): doctors and admins see it at once. */
import { useState } from 'react';
import { useMutation } from 'urql';
import { describeError } from '../lib/errors';
import { EMERGENCY, type DoctorSummary } from './operations';

export default function Emergency({
  doctor,
  specialtyId,
  onSent,
}: {
  doctor: DoctorSummary | null;
  specialtyId: string;
  onSent: (message: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, send] = useMutation(EMERGENCY);
  return (
    <section className="pp-card pp-emergency" aria-labelledby="pp-emergency-title">
      <h2 id="pp-emergency-title">Urgent help</h2>
      {!open ? (
        <button type="button" className="pp-danger" onClick={() => setOpen(true)}>
          Send an emergency request
        </button>
      ) : (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            const result = await send({
              input: {
                message: message.trim(),
                doctorId: doctor?.id ?? null,
                specialtyId: doctor ? null : specialtyId || null,
              },
            });
            if (result.error) {
              setError(describeError(result.error));
              return;
            }
            setMessage('');
            setOpen(false);
            onSent(
              doctor
                ? `Emergency request sent to ${doctor.name} and the clinic's staff.`
                : "Emergency request sent to the clinic's staff.",
            );
          }}
        >
          <p className="pp-muted">
            For a life-threatening emergency call your local emergency number first.
            {doctor
              ? ` This goes to ${doctor.name} and the clinic's admins.`
              : " This goes to the clinic's doctors and admins."}
          </p>
          <label htmlFor="pp-emergency-message">What is happening?</label>
          <textarea
            id="pp-emergency-message"
            required
            rows={3}
            maxLength={2000}
            value={message}
            onChange={(e) => setMessage(e.target.value)}
          />
          {error && (
            <p role="alert" className="pp-error">
              {error}
            </p>
          )}
          <div className="pp-actions">
            <button type="submit" className="pp-danger" disabled={fetching || !message.trim()}>
              {fetching ? 'Sending…' : 'Send now'}
            </button>
            <button type="button" onClick={() => setOpen(false)}>
              Close
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
