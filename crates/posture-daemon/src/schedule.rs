//! When scans start: a cron expression (croner) or a fixed interval aligned to the Unix
//! epoch, so that every replica computes the same cycles. Pure: `now` is passed in.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use croner::Cron;

/// A cron expression or an interval.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Ticks where the expression matches (UTC).
    Cron(Box<Cron>),
    /// Ticks at every multiple of the interval since the Unix epoch.
    Interval(Duration),
}

/// The expression does not parse, or the interval is zero.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(String);

impl Schedule {
    /// A cron schedule from its expression.
    pub fn cron(expression: &str) -> Result<Self, ScheduleError> {
        let cron: Cron = expression
            .trim()
            .parse()
            .map_err(|e| ScheduleError(format!("schedule {expression:?}: {e}")))?;
        Ok(Self::Cron(Box::new(cron)))
    }

    /// An interval schedule.
    pub fn interval(every: Duration) -> Result<Self, ScheduleError> {
        if every.as_secs() == 0 {
            return Err(ScheduleError("the interval must be at least 1s".into()));
        }
        Ok(Self::Interval(every))
    }

    /// The start of the cycle `now` is in: the latest tick at or before `now`.
    pub fn cycle_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Schedule::Cron(cron) => cron
                .find_previous_occurrence(&now, true)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            Schedule::Interval(every) => {
                let every = i64::try_from(every.as_secs()).unwrap_or(i64::MAX);
                let secs = now.timestamp();
                let start = secs - secs.rem_euclid(every);
                DateTime::from_timestamp(start, 0).unwrap_or(now)
            }
        }
    }

    /// The first tick after `now`; `None` when the expression never matches again (a
    /// pattern with a past year, or a date that does not exist such as 30 February).
    pub fn next_tick(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron(cron) => cron.find_next_occurrence(&now, false).ok(),
            Schedule::Interval(every) => self
                .cycle_start(now)
                .checked_add_signed(TimeDelta::from_std(*every).ok()?),
        }
    }

    /// The start of the cycle before the one `now` is in.
    pub fn previous_cycle_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let current = self.cycle_start(now);
        current
            .checked_sub_signed(TimeDelta::seconds(1))
            .map_or(current, |before| self.cycle_start(before))
    }
}

/// Exponential backoff for failed cycles: `base` doubled per failure up to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The first delay.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(30),
            max: Duration::from_secs(15 * 60),
        }
    }
}

impl Backoff {
    /// The delay after `failures` consecutive failures (1 = the first).
    pub fn delay(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.saturating_sub(1).min(16);
        self.base.saturating_mul(factor).min(self.max)
    }
}

/// A random duration below `max` (zero when `max` is zero), from the standard library's
/// randomly seeded hasher: jitter needs no cryptographic randomness.
pub fn random_below(max: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let millis = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    if millis == 0 {
        return Duration::ZERO;
    }
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    Duration::from_millis(h.finish() % millis)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, h, m, s).unwrap()
    }

    #[test]
    fn an_hourly_cron_cycles_on_the_hour() {
        let s = Schedule::cron("0 * * * *").unwrap();
        assert_eq!(s.cycle_start(at(10, 45, 0)), at(10, 0, 0));
        assert_eq!(
            s.cycle_start(at(10, 0, 0)),
            at(10, 0, 0),
            "a tick is its own cycle's start"
        );
        assert_eq!(s.next_tick(at(10, 45, 0)), Some(at(11, 0, 0)));
        assert_eq!(
            s.next_tick(at(10, 0, 0)),
            Some(at(11, 0, 0)),
            "the next tick is after now"
        );
        assert_eq!(s.previous_cycle_start(at(10, 45, 0)), at(9, 0, 0));
        assert_eq!(s.previous_cycle_start(at(10, 0, 0)), at(9, 0, 0));
    }

    #[test]
    fn a_weekday_cron_has_uneven_periods() {
        // 2026-12-07 is a Monday; 9:00 on weekdays.
        let s = Schedule::cron("0 9 * * MON-FRI").unwrap();
        let sat = Utc.with_ymd_and_hms(2026, 12, 12, 12, 0, 0).unwrap();
        assert_eq!(
            s.cycle_start(sat),
            Utc.with_ymd_and_hms(2026, 12, 11, 9, 0, 0).unwrap()
        );
        assert_eq!(
            s.next_tick(sat),
            Some(Utc.with_ymd_and_hms(2026, 12, 14, 9, 0, 0).unwrap())
        );
        // Monday 9:05: the previous cycle began on Friday (readiness spans the weekend).
        let monday = Utc.with_ymd_and_hms(2026, 12, 14, 9, 5, 0).unwrap();
        assert_eq!(
            s.previous_cycle_start(monday),
            Utc.with_ymd_and_hms(2026, 12, 11, 9, 0, 0).unwrap()
        );
    }

    #[test]
    fn intervals_align_to_the_epoch_so_replicas_agree() {
        let s = Schedule::interval(Duration::from_secs(600)).unwrap();
        assert_eq!(s.cycle_start(at(10, 47, 13)), at(10, 40, 0));
        assert_eq!(s.next_tick(at(10, 47, 13)), Some(at(10, 50, 0)));
        assert_eq!(s.next_tick(at(10, 50, 0)), Some(at(11, 0, 0)));
        // A schedule that never fires again is no tick, not a panic.
        let past = Schedule::cron("0 0 9 1 1 * 2025").unwrap();
        assert_eq!(past.next_tick(at(10, 0, 0)), None);
        let huge = Schedule::interval(Duration::from_secs(u64::MAX / 4)).unwrap();
        assert_eq!(huge.next_tick(at(10, 0, 0)), None);
        assert!(Schedule::interval(Duration::ZERO).is_err());
        assert!(Schedule::cron("0 25 * * *").is_err());
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff::default();
        let secs: Vec<u64> = (1..=7).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 900, 900]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(900));
    }

    #[test]
    fn jitter_stays_below_its_bound() {
        assert_eq!(random_below(Duration::ZERO), Duration::ZERO);
        for _ in 0..100 {
            assert!(random_below(Duration::from_millis(50)) < Duration::from_millis(50));
        }
    }
}
