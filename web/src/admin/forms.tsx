// Small pieces the admin forms share: the error line and which input an error names.
import type { CombinedError } from 'urql';
import { describeError } from '../lib/errors';

/** The input field a BAD_USER_INPUT error names (`extensions.field`), if any. */
export function errorField(error: CombinedError | null | undefined): string | null {
  const field = error?.graphQLErrors[0]?.extensions?.field;
  return typeof field === 'string' ? field : null;
}

export function FormError({ error }: { error: CombinedError | null | undefined }) {
  if (!error) return null;
  const field = errorField(error);
  return (
    <p role="alert" className="error" data-testid="form-error" data-field={field ?? undefined}>
      {describeError(error)}
    </p>
  );
}

/** aria-invalid for the input an error names. */
export function invalid(error: CombinedError | null | undefined, ...names: string[]) {
  const field = errorField(error);
  return field !== null && names.some((name) => field === name || field.endsWith(`.${name}`))
    ? { 'aria-invalid': true as const }
    : {};
}
