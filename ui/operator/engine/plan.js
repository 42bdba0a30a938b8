// Where a first load starts paging, given the roll-ups the server shares (pure; docs/dashboard-engine.md).
//
// Owns the UTC-day and ULID arithmetic of the engine and the rule that makes a partial set of roll-ups
// safe: a roll-up with checkpoint C holds every event of its day whose sequence is ≤ C (minus those
// deleted by then). An event's sequence is never older than its id's time, so the events of a day with no
// roll-up all have sequences after the start of that day. Paging from the smaller of the lowest checkpoint
// and the start of the first day without a roll-up therefore misses nothing, except a day-less prefix of
// the retention window (the partly expired oldest day, whose roll-up the server drops at every expiry):
// that prefix is read by a short head scan from the beginning that stops once sequences pass its end.

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const DAY_MS = 86400000;

/** Days kept per retention name (appliance/config.py RETENTION_DAYS, reference §4.4). */
export const RETENTION_DAYS = Object.freeze({ '6months': 186, '12weeks': 84, '6weeks': 42, '30days': 30, '7days': 7 });

export function retentionMs(retentionPeriod) {
  return (RETENTION_DAYS[retentionPeriod] ?? 186) * DAY_MS;
}

/** "YYYY-MM-DD" of the UTC day of `ms`. */
export function utcDay(ms) {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

export function dayStart(period) {
  return Date.parse(period + 'T00:00:00Z');
}

export function addDays(period, n) {
  return utcDay(dayStart(period) + n * DAY_MS);
}

/** The 10 time characters of a ULID for `ms`. */
export function encodeTime(ms) {
  let out = '';
  let value = Math.max(0, Math.floor(ms));
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[value % 32] + out;
    value = Math.floor(value / 32);
  }
  return out;
}

/** The smallest ULID of millisecond `ms`: every id or sequence made at or after `ms` sorts above it. */
export function ulidFloor(ms) {
  return encodeTime(ms) + '0000000000000000';
}

/** Milliseconds of a ULID's time part (NaN if not a ULID). */
export function ulidMs(id) {
  if (typeof id !== 'string' || id.length < 10) return NaN;
  let ms = 0;
  for (let i = 0; i < 10; i++) {
    const v = CROCKFORD.indexOf(id[i]);
    if (v < 0) return NaN;
    ms = ms * 32 + v;
  }
  return ms;
}

/**
 * The scans of a first load. `checkpoints`: Map period → checkpoint of the roll-ups that opened;
 * `firstDay` / `lastDay`: the retention window up to and including today (which has no roll-up, so its
 * events are always paged).
 * Returns `{head: null | {until}, after}`: `head` scans from the beginning up to sequence `until`;
 * the main scan pages from `after` (null: from the beginning, and then no head scan is needed).
 */
export function planScans(checkpoints, firstDay, lastDay) {
  if (!checkpoints || checkpoints.size === 0 || firstDay > lastDay) return { head: null, after: null };
  let min = null;
  for (const value of checkpoints.values()) if (min === null || value < min) min = value;
  let after = min;
  let day = firstDay;
  // The prefix of days without a roll-up (usually the oldest, partly expired day).
  while (day <= lastDay && !checkpoints.has(day)) day = addDays(day, 1);
  const head = day === firstDay ? null : { until: ulidFloor(dayStart(day)) };
  for (; day <= lastDay; day = addDays(day, 1)) {
    if (!checkpoints.has(day)) {
      const floor = ulidFloor(dayStart(day));
      if (floor < after) after = floor;
      break;
    }
  }
  if (head && head.until >= after) return { head: null, after: null };
  return { head, after };
}

/** Whether a fetched event is already inside its day's roll-up (then it is skipped, not re-added). */
export function coveredByRollup(checkpoints, period, sequence) {
  const checkpoint = checkpoints.get(period);
  return checkpoint !== undefined && typeof sequence === 'string' && sequence <= checkpoint;
}
