// When the mailbox workflow next calls users.watch for Gmail push notifications, from what its
// last call came to. Gmail's watch lasts 7 days; Google asks for it to be renewed before then and
// recommends daily, so a watch is renewed a day after it was granted, or halfway through its life
// when that is sooner (a watch that expires within two days; the stand-in's of a few seconds is
// renewed within seconds). A refusal, or a step that failed, is tried again in an hour; a worker
// without MAIL_PUSH_TOPIC is asked again in a day. Times are workflow time, in ms.
import type { WatchOutcome } from '../activities/mail/watch.ts';

/**
 * Marks the runs that keep a watch: one begun before renewed none, and replays its history
 * without the watch steps until it next waits between syncs.
 */
export const MAILBOX_WATCH_PATCH = 'mailbox-watch';

/** How often a watch is renewed (Google's recommendation), and how often a worker without a topic is asked. */
export const WATCH_RENEWAL_MS = 24 * 3600_000;
/** How soon a refused or failed watch is tried again. */
export const WATCH_RETRY_MS = 3600_000;
/** The least time between two watch calls, whatever Gmail answers. */
const WATCH_MIN_INTERVAL_MS = 1000;

/** How long after `now` to call users.watch again; `outcome` is null when the step failed. */
export function nextWatchIn(outcome: WatchOutcome | null, now: number): number {
  if (outcome === null || outcome.kind === 'refused') return WATCH_RETRY_MS;
  if (outcome.kind === 'off') return WATCH_RENEWAL_MS;
  const lifetime = outcome.expiration - now;
  if (lifetime <= 0) return WATCH_RETRY_MS;
  return Math.max(WATCH_MIN_INTERVAL_MS, Math.min(WATCH_RENEWAL_MS, lifetime / 2));
}
