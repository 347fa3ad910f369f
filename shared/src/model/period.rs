//! Usage windows: the UTC calendar day and the UTC calendar month, with the
//! instant each one resets.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

crate::names::named_enum! {
    pub enum Window {
        Daily,
        Monthly,
    }
}

impl Window {
    /// Both windows, the shorter first (the order answers list them in).
    pub const ALL: [Window; 2] = [Window::Daily, Window::Monthly];
}

/// One concrete window: which kind, when it started and when it resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub window: Window,
    pub start: DateTime<Utc>,
    pub resets_at: DateTime<Utc>,
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

fn first_of_next_month(date: NaiveDate) -> NaiveDate {
    let (y, m) = if date.month() == 12 { (date.year() + 1, 1) } else { (date.year(), date.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).expect("first of a month exists")
}

impl Period {
    pub fn containing(window: Window, at: DateTime<Utc>) -> Self {
        let date = at.date_naive();
        match window {
            Window::Daily => Period { window, start: midnight(date), resets_at: midnight(date) + Duration::days(1) },
            Window::Monthly => {
                let first = date.with_day(1).expect("day 1 exists");
                Period { window, start: midnight(first), resets_at: midnight(first_of_next_month(date)) }
            }
        }
    }

    /// The month this period lies in, as `2026-11`; usage rows are keyed by it.
    pub fn month_key(&self) -> String {
        self.start.format("%Y-%m").to_string()
    }

    /// `2026-11-27` for a day, `2026-11` for a month.
    pub fn key(&self) -> String {
        match self.window {
            Window::Daily => self.start.format("%Y-%m-%d").to_string(),
            Window::Monthly => self.month_key(),
        }
    }

    /// Day of the month, 1..=31, for daily periods (0 for monthly).
    pub fn day_of_month(&self) -> u32 {
        match self.window {
            Window::Daily => self.start.day(),
            Window::Monthly => 0,
        }
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.resets_at
    }

    /// Whole seconds until the reset, rounded up (a client that waits them
    /// is never early), at least 1 (for Retry-After).
    pub fn seconds_until_reset(&self, now: DateTime<Utc>) -> i64 {
        let left = self.resets_at - now;
        let whole = left.num_seconds();
        let partial = left - chrono::Duration::seconds(whole) > chrono::Duration::zero();
        (whole + i64::from(partial)).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn day_runs_midnight_to_midnight_utc() {
        let p = Period::containing(Window::Daily, at("2026-11-27T23:59:59.999Z"));
        assert_eq!(p.start, at("2026-11-27T00:00:00Z"));
        assert_eq!(p.resets_at, at("2026-11-28T00:00:00Z"));
        assert_eq!(p.key(), "2026-11-27");
        assert_eq!(p.day_of_month(), 27);
        let next = Period::containing(Window::Daily, at("2026-11-28T00:00:00Z"));
        assert_eq!(next.key(), "2026-11-28");
        assert!(!p.contains(at("2026-11-28T00:00:00Z")));
        assert!(p.contains(at("2026-11-27T00:00:00Z")));
    }

    #[test]
    fn month_ends_at_the_first_of_the_next() {
        let p = Period::containing(Window::Monthly, at("2026-11-30T23:59:59Z"));
        assert_eq!(p.key(), "2026-11");
        assert_eq!(p.resets_at, at("2026-12-01T00:00:00Z"));
        assert_eq!(Period::containing(Window::Monthly, at("2026-12-01T00:00:00Z")).key(), "2026-12");
    }

    #[test]
    fn year_end_rolls_into_january() {
        let d = Period::containing(Window::Daily, at("2026-12-31T12:00:00Z"));
        assert_eq!(d.resets_at, at("2027-01-01T00:00:00Z"));
        let m = Period::containing(Window::Monthly, at("2026-12-31T12:00:00Z"));
        assert_eq!(m.resets_at, at("2027-01-01T00:00:00Z"));
        assert_eq!(Period::containing(Window::Monthly, at("2027-01-01T00:00:00Z")).key(), "2027-01");
    }

    #[test]
    fn leap_day_is_its_own_day_in_february() {
        let d = Period::containing(Window::Daily, at("2028-02-29T08:00:00Z"));
        assert_eq!(d.key(), "2028-02-29");
        assert_eq!(d.resets_at, at("2028-03-01T00:00:00Z"));
        let m = Period::containing(Window::Monthly, at("2028-02-29T08:00:00Z"));
        assert_eq!(m.resets_at, at("2028-03-01T00:00:00Z"));
        let m = Period::containing(Window::Monthly, at("2027-02-28T08:00:00Z"));
        assert_eq!(m.resets_at, at("2027-03-01T00:00:00Z"));
    }

    #[test]
    fn offsets_are_converted_to_utc_first() {
        // 01:30 in UTC+02:00 is still the previous UTC day.
        let p = Period::containing(Window::Daily, at("2026-12-01T01:30:00+02:00"));
        assert_eq!(p.key(), "2026-11-30");
        assert_eq!(Period::containing(Window::Monthly, at("2026-12-01T01:30:00+02:00")).key(), "2026-11");
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let p = Period::containing(Window::Daily, at("2026-11-27T23:59:59.500Z"));
        assert_eq!(p.seconds_until_reset(at("2026-11-27T23:59:59.500Z")), 1);
        assert_eq!(p.seconds_until_reset(at("2026-11-27T23:00:00Z")), 3600);
        assert_eq!(p.seconds_until_reset(at("2026-11-27T22:59:59.001Z")), 3601, "rounded up, never early");
    }
}
