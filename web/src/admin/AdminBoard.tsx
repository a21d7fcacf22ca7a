// The admin's view (#/admin): the live board for a chosen date, with the appointment feed
// and emergency alerts, the management of specialties, doctors and schedules, and the
// notifications that could not be delivered.
import { useRef, useState, type KeyboardEvent } from 'react';
import { useAnnounce } from '../lib/announce';
import { useAuth } from '../lib/auth';
import { addDays, todayIn } from '../lib/time';
import { DoctorsPanel } from './DoctorsPanel';
import { EmergencyAlerts } from './EmergencyAlerts';
import { FailedDeliveries } from './FailedDeliveries';
import { LiveBoard } from './LiveBoard';
import { SchedulePanel } from './SchedulePanel';
import { SpecialtiesPanel } from './SpecialtiesPanel';
import './admin.css';

const TABS = [
  { id: 'board', label: 'Live board' },
  { id: 'specialties', label: 'Specialties' },
  { id: 'doctors', label: 'Doctors' },
  { id: 'schedules', label: 'Schedules' },
  { id: 'deliveries', label: 'Failed deliveries' },
] as const;

type TabId = (typeof TABS)[number]['id'];

export default function AdminBoard() {
  const { user } = useAuth();
  const [tab, setTab] = useState<TabId>('board');
  const [date, setDate] = useState(() => todayIn());
  const announce = useAnnounce();
  const tabRefs = useRef<Record<string, HTMLButtonElement | null>>({});

  if (user?.role !== 'ADMIN') {
    return (
      <div className="admin-view">
        <p role="alert">The live board is for clinic administrators. Sign in with an admin account.</p>
      </div>
    );
  }

  // Arrow keys move between tabs, as the WAI-ARIA tabs pattern has it.
  const onTabKey = (event: KeyboardEvent) => {
    const index = TABS.findIndex((t) => t.id === tab);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const next = TABS[(index + step + TABS.length) % TABS.length].id;
    setTab(next);
    tabRefs.current[next]?.focus();
  };

  return (
    <div className="admin-view" data-testid="admin-view">
      <div className="admin-toolbar">
        <h1>Clinic board</h1>
        <div role="tablist" aria-label="Admin sections" onKeyDown={onTabKey} className="tabs">
          {TABS.map((t) => (
            <button
              key={t.id}
              ref={(el) => {
                tabRefs.current[t.id] = el;
              }}
              type="button"
              role="tab"
              id={`tab-${t.id}`}
              aria-selected={tab === t.id}
              aria-controls={`panel-${t.id}`}
              tabIndex={tab === t.id ? 0 : -1}
              onClick={() => setTab(t.id)}
            >
              {t.label}
            </button>
          ))}
        </div>
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'board' && (
          <>
            <div className="date-bar">
              <button type="button" onClick={() => setDate((d) => addDays(d, -1))} aria-label="Previous day">
                ‹
              </button>
              <label>
                Date{' '}
                <input
                  type="date"
                  name="board-date"
                  value={date}
                  required
                  onChange={(e) => e.target.value && setDate(e.target.value)}
                />
              </label>
              <button type="button" onClick={() => setDate((d) => addDays(d, 1))} aria-label="Next day">
                ›
              </button>
              <button type="button" onClick={() => setDate(todayIn())}>
                Today
              </button>
            </div>
            {/* A new board per date: its subscription and state are the date's. */}
            <LiveBoard key={date} date={date} onAnnounce={(text) => announce(text)} />
          </>
        )}
        {tab === 'specialties' && <SpecialtiesPanel />}
        {tab === 'doctors' && <DoctorsPanel />}
        {tab === 'schedules' && <SchedulePanel />}
        {tab === 'deliveries' && <FailedDeliveries />}
      </div>
      {/* Mounted whatever the tab: an emergency interrupts any work. */}
      <EmergencyAlerts />
    </div>
  );
}
