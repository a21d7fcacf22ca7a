// Screen-reader announcements: one polite and one assertive aria-live region for the whole app,
// so live changes ("10:30 was just booked", "Emergency request") are spoken once.
import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from 'react';

type Announce = (message: string, options?: { assertive?: boolean }) => void;

const AnnounceContext = createContext<Announce>(() => {});

export function AnnouncerProvider({ children }: { children: ReactNode }) {
  const [polite, setPolite] = useState('');
  const [assertive, setAssertive] = useState('');
  const toggle = useRef(false);
  const announce = useCallback<Announce>((message, options) => {
    // A trailing no-break space alternates so the same message twice is announced twice.
    toggle.current = !toggle.current;
    const text = toggle.current ? message : `${message}\u00a0`;
    if (options?.assertive) setAssertive(text);
    else setPolite(text);
  }, []);
  return (
    <AnnounceContext.Provider value={announce}>
      {children}
      <div className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="announcer-polite">
        {polite}
      </div>
      <div
        className="visually-hidden"
        aria-live="assertive"
        aria-atomic="true"
        data-testid="announcer-assertive"
      >
        {assertive}
      </div>
    </AnnounceContext.Provider>
  );
}

/** `const announce = useAnnounce(); announce('10:30 is now taken')`. */
export function useAnnounce(): Announce {
  return useContext(AnnounceContext);
}
