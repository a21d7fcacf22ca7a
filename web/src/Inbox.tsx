// The signed-in user's in-app notifications (issue 21): an unread count in the header, kept live
// by the `notifications` subscription, and the list, marked read when opened.
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { gql, useMutation, useQuery, useSubscription } from 'urql';

interface InboxItem {
  id: string;
  subject: string;
  body: string;
  createdAt: string;
  readAt: string | null;
}

const INBOX = gql<
  { myNotifications: { unread: number; edges: { node: InboxItem }[] } },
  Record<string, never>
>`
  query Inbox {
    myNotifications(first: 20) { unread edges { node { id subject body createdAt readAt } } }
  }
`;

const MARK_READ = gql<{ markNotificationsRead: number }, { ids: string[] }>`
  mutation InboxMarkRead($ids: [ID!]!) { markNotificationsRead(ids: $ids) }
`;

const ARRIVALS = gql<{ notifications: { id: string } }, Record<string, never>>`
  subscription InboxArrivals { notifications { id } }
`;

const NO_VARIABLES = {};

export function Inbox() {
  const [inbox, reread] = useQuery({ query: INBOX, variables: NO_VARIABLES, requestPolicy: 'cache-and-network' });
  const [arrival] = useSubscription({ query: ARRIVALS, variables: NO_VARIABLES });
  const [, markRead] = useMutation(MARK_READ);
  const [open, setOpen] = useState(false);
  const listId = useId();
  const button = useRef<HTMLButtonElement>(null);
  const arrivedId = arrival.data?.notifications.id;

  useEffect(() => {
    if (arrivedId) reread({ requestPolicy: 'network-only' });
  }, [arrivedId, reread]);

  const data = inbox.data?.myNotifications;
  const items = useMemo(() => data?.edges.map((e) => e.node) ?? [], [data]);
  const marked = useRef(new Set<string>());
  const unread = inbox.data?.myNotifications.unread ?? 0;

  // Opening the list is reading it: what it shows unread becomes read.
  useEffect(() => {
    if (!open) return;
    // Each one once: the answer and the re-read come later than the next render.
    const ids = items.filter((n) => !n.readAt && !marked.current.has(n.id)).map((n) => n.id);
    if (!ids.length) return;
    ids.forEach((id) => marked.current.add(id));
    void markRead({ ids }).then(() => reread({ requestPolicy: 'network-only' }));
  }, [open, items, markRead, reread]);

  return (
    <div className="inbox" data-testid="inbox" data-unread={unread}>
      <button
        ref={button}
        type="button"
        className="btn btn-quiet"
        aria-expanded={open}
        aria-controls={listId}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') setOpen(false);
        }}
      >
        Notifications{unread > 0 && <span className="inbox-count"> ({unread} unread)</span>}
      </button>
      {open && (
        <div
          id={listId}
          className="inbox-list"
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              setOpen(false);
              button.current?.focus();
            }
          }}
        >
          {items.length === 0 && <p className="muted">No notifications yet.</p>}
          <ul aria-label="Notifications">
            {items.map((n) => (
              <li key={n.id} data-testid="inbox-item" data-read={n.readAt ? 'true' : 'false'}>
                <strong>{n.subject}</strong>
                <time dateTime={n.createdAt}> {new Date(n.createdAt).toLocaleString()}</time>
                <p>{n.body}</p>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
