// What the admin views need beyond web/src/lib/time.ts: clock times with seconds (the
// event feed) and the list of IANA zones for the doctor form.

/** An instant as wall-clock time in a zone, e.g. "14:05:09". */
export function clockIn(iso: string, timeZone: string, seconds = false): string {
  return new Intl.DateTimeFormat(undefined, {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    second: seconds ? '2-digit' : undefined,
    hourCycle: 'h23',
  }).format(new Date(iso));
}

/** Every IANA zone the browser knows, for a zone picker. */
export function knownTimeZones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  const zones = intl.supportedValuesOf?.('timeZone') ?? [];
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}

/** The contract's window for undoing a no-show (the server refuses it after). */
const NO_SHOW_UNDO_MS = 24 * 60 * 60 * 1000;

/** Whether a no-show marked at `noShowAt` can still be undone at `now` (ms). */
export function noShowUndoOpen(noShowAt: string | null, now: number): boolean {
  return noShowAt != null && Date.parse(noShowAt) + NO_SHOW_UNDO_MS > now;
}
