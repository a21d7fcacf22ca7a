// Sign in, or register as a patient: the API's `login` / `register`, messages via describeError.
import { useId, useState, type FormEvent } from 'react';

import { useAnnounce } from './lib/announce';
import { useAuth } from './lib/auth';
import { describeError, errorDetail } from './lib/errors';
import { localZone } from './lib/time';

/** The API's password rule (app/domain/validation.py: PASSWORD_MIN, PASSWORD_MAX), shown before
 * submitting rather than only in the refusal. */
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 128;
const PASSWORD_RULE = `${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`;

type Mode = 'signin' | 'register';
const MODES: readonly Mode[] = ['signin', 'register'];

export default function SignIn() {
  const { login, register } = useAuth();
  const announce = useAnnounce();
  const [mode, setMode] = useState<Mode>('signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [phone, setPhone] = useState('');
  const [error, setError] = useState<{ text: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const errorId = `${id}-error`;
  const ruleId = `${id}-password-rule`;
  const passwordShort = mode === 'register' && password.length > 0 && password.length < PASSWORD_MIN;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const user = mode === 'signin' ? await login(email, password) : await register({ email, password, name, phone, timezone: localZone() });
      announce(`Signed in as ${user.name}`);
    } catch (caught) {
      const detail = errorDetail(caught);
      // A refused sign-in is UNAUTHENTICATED too; the server's words fit it better here.
      const text =
        detail?.code === 'UNAUTHENTICATED' ? `${detail.message}.` : describeError(caught);
      setError({ text, field: detail?.field?.replace(/^input\./, '') });
      announce(text, { assertive: true });
    } finally {
      setBusy(false);
    }
  }

  const choose = (next: Mode) => {
    setMode(next);
    setError(null);
  };
  const invalid = (field: string) => (error?.field === field ? true : undefined);

  return (
    <main id="main" className="signin">
      <h1>AayuLink Booking</h1>
      <div className="tabs" role="tablist" aria-label="Sign in or register">
        {MODES.map((m) => (
          <button
            key={m}
            id={`${id}-tab-${m}`}
            type="button"
            role="tab"
            aria-selected={mode === m}
            aria-controls={`${id}-panel`}
            tabIndex={mode === m ? 0 : -1}
            className={mode === m ? 'tab active' : 'tab'}
            onClick={() => choose(m)}
            onKeyDown={(event) => {
              // The tabs pattern: arrow keys move between tabs, Tab moves into the form.
              if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
              event.preventDefault();
              const next = MODES[(MODES.indexOf(m) + 1) % MODES.length];
              choose(next);
              document.getElementById(`${id}-tab-${next}`)?.focus();
            }}
          >
            {m === 'signin' ? 'Sign in' : 'Register'}
          </button>
        ))}
      </div>
      <form
        id={`${id}-panel`}
        role="tabpanel"
        aria-labelledby={`${id}-tab-${mode}`}
        className="card"
        onSubmit={submit}
        aria-describedby={error ? errorId : undefined}
        data-testid={`${mode}-form`}
      >
        {mode === 'register' && (
          <label className="field">
            Full name
            <input name="name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} aria-invalid={invalid('name')} />
          </label>
        )}
        <label className="field">
          Email
          <input name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} aria-invalid={invalid('email')} />
        </label>
        <label className="field">
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === 'signin' ? 'current-password' : 'new-password'}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={invalid('password')}
            minLength={mode === 'register' ? PASSWORD_MIN : undefined}
            maxLength={mode === 'register' ? PASSWORD_MAX : undefined}
            aria-describedby={mode === 'register' ? ruleId : undefined}
          />
        </label>
        {mode === 'register' && (
          <p id={ruleId} className="hint" data-testid="password-rule">
            Password: {PASSWORD_RULE}
            {passwordShort ? ` ${PASSWORD_MIN - password.length} more to go.` : ''}
          </p>
        )}
        {mode === 'register' && (
          <label className="field">
            Phone (optional)
            <input name="phone" type="tel" autoComplete="tel" value={phone} onChange={(e) => setPhone(e.target.value)} aria-invalid={invalid('phone')} />
          </label>
        )}
        {error && (
          <p id={errorId} className="error" role="alert">
            {error.text}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Please wait…' : mode === 'signin' ? 'Sign in' : 'Create account'}
        </button>
      </form>
    </main>
  );
}
