// Failed deliveries (issue 21): the notifications the sender gave up on after its retries,
// who each was for and why it failed, with a retry per row. A retried row stays in the list,
// showing what the server made of it, until the list is read again.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { useAnnounce } from '../lib/announce';
import { describeError } from '../lib/errors';
import { formatDateTime, localZone, zoneLabel } from '../lib/time';
import { FAILED_DELIVERIES, ME, RETRY_DELIVERY, type Delivery } from './operations';

const NO_VARIABLES = {};

const CHANNEL: Record<Delivery['channel'], string> = { IN_APP: 'In-app', EMAIL: 'Email', WEBHOOK: 'Webhook' };
const STATUS: Record<Delivery['status'], string> = {
  PENDING: 'Retry queued',
  SENT: 'Sent',
  FAILED: 'Failed',
  SKIPPED: 'Skipped (opted out)',
};

function kindLabel(kind: string): string {
  return kind.charAt(0) + kind.slice(1).toLowerCase().replace(/_/g, ' ');
}

function DeliveryRow({ delivery, zone, onRetried }: { delivery: Delivery; zone: string; onRetried: (d: Delivery) => void }) {
  const [retry, run] = useMutation(RETRY_DELIVERY);
  const row = useRef<HTMLLIElement>(null);
  const say = useAnnounce();
  const who = delivery.recipient ?? 'unknown recipient';

  const again = async () => {
    const result = await run({ id: delivery.id });
    // The Retry button is gone once the row is queued: the focus stays on the row.
    row.current?.focus();
    if (result.data) {
      onRetried(result.data.retryNotification);
      say(`${kindLabel(delivery.kind)} to ${who}: retry queued`);
    }
  };

  return (
    <li
      ref={row}
      tabIndex={-1}
      className="delivery-row"
      data-testid="failed-delivery"
      data-delivery-id={delivery.id}
      data-status={delivery.status}
      aria-label={`${kindLabel(delivery.kind)} by ${CHANNEL[delivery.channel]} to ${who}`}
    >
      <div className="row-line">
        <span>
          <strong data-testid="delivery-recipient">{who}</strong>{' '}
          <span className="tag">{kindLabel(delivery.kind)}</span>
          <span className="tag">{CHANNEL[delivery.channel]}</span>
        </span>
        <span className={`status status-delivery-${delivery.status.toLowerCase()}`} data-testid="delivery-status">
          {STATUS[delivery.status]}
        </span>
      </div>
      <p className="reason">{delivery.subject}</p>
      <dl className="delivery-facts">
        <div>
          <dt>Attempts</dt>
          <dd data-testid="delivery-attempts">{delivery.attempts}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <time dateTime={delivery.createdAt}>{formatDateTime(delivery.createdAt, zone)}</time>
          </dd>
        </div>
        <div className="delivery-error">
          <dt>Last error</dt>
          <dd data-testid="delivery-error">{delivery.lastError ?? '—'}</dd>
        </div>
      </dl>
      {delivery.status === 'FAILED' && (
        <div className="row-actions">
          <button type="button" className="primary" disabled={retry.fetching} onClick={() => void again()} aria-label={`Retry: ${kindLabel(delivery.kind)} to ${who}`}>
            Retry
          </button>
        </div>
      )}
      {retry.error && (
        <p role="alert" className="error">
          {describeError(retry.error)}
        </p>
      )}
    </li>
  );
}

export function FailedDeliveries() {
  const client = useClient();
  const [me] = useQuery({ query: ME, variables: NO_VARIABLES });
  const zone = me.data?.me?.timezone ?? localZone();
  const [rows, setRows] = useState<Delivery[] | null>(null);
  const [more, setMore] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      const result = await client.query(FAILED_DELIVERIES, { after }, { requestPolicy: 'network-only' }).toPromise();
      setLoading(false);
      if (result.error || !result.data) {
        setError(describeError(result.error) || 'The deliveries could not be read.');
        return;
      }
      const page = result.data.notificationDeliveries;
      const found = page.edges.map((e) => e.node);
      setRows((before) => (after && before ? [...before, ...found] : found));
      setMore(page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null);
      setError(null);
    },
    [client],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  const retried = (changed: Delivery) => setRows((before) => (before ?? []).map((d) => (d.id === changed.id ? changed : d)));

  return (
    <section className="panel" aria-labelledby="deliveries-title">
      <header className="board-header">
        <h2 id="deliveries-title">Failed deliveries</h2>
        <span className="muted">Times in {zoneLabel(zone)}</span>
        <button type="button" onClick={() => void load(null)} disabled={loading}>
          Refresh
        </button>
      </header>
      <p className="muted">
        Notifications the sender gave up on after its retries. Retry one once its cause is fixed (the mail server, the
        webhook, the address).
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <ul className="managed-list" data-testid="failed-deliveries" data-ready={rows !== null && !loading} aria-busy={rows === null || loading}>
        {rows === null && !error && <li className="muted">Loading…</li>}
        {rows !== null && rows.length === 0 && <li className="muted">No failed deliveries.</li>}
        {(rows ?? []).map((d) => (
          <DeliveryRow key={d.id} delivery={d} zone={zone} onRetried={retried} />
        ))}
      </ul>
      {more && (
        <button type="button" onClick={() => void load(more)} disabled={loading}>
          Show more
        </button>
      )}
    </section>
  );
}
