//! The institution's clock. Every "now", "today", month and year boundary of the server passes
//! through a [`Clock`], taken in the institution's time zone (`DANGJIAN_TIME_ZONE`, default
//! Asia/Shanghai) whatever the process's `TZ`: a server left in UTC would otherwise refuse a
//! Beijing user's "today" as a future date between 00:00 and 08:00 every day.
//!
//! The clock can also be started at another instant (`DANGJIAN_NOW`, RFC 3339) and run on from
//! there, so that tests and demonstrations run on any date and hour (`make test-dates`) without
//! faking the process's time. The database follows the same clock: each pooled connection sets
//! its `TimeZone` to the institution's and, for a shifted clock, `dangjian.clock_offset`, which
//! `dangjian_today()` (the history triggers' default date) adds to `now()` (crate::db).
//!
//! The time zone is chrono-tz's compiled-in IANA database rather than the system's zoneinfo
//! (jiff reads that, or bundles its own): chrono is already the crate of every date here, and an
//! intranet server's container image may have no /usr/share/zoneinfo at all.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;

/// The institution's time zone unless configured otherwise.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Asia::Shanghai;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    tz: Tz,
    /// Added to the system's time: zero in production, the distance to `DANGJIAN_NOW` otherwise.
    offset: TimeDelta,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system(DEFAULT_TIME_ZONE)
    }
}

impl Clock {
    /// The system's time, read in `tz`.
    pub fn system(tz: Tz) -> Clock {
        Clock { tz, offset: TimeDelta::zero() }
    }

    /// A clock that reads `at` now and runs on from there.
    pub fn starting_at(tz: Tz, at: DateTime<Utc>) -> Clock {
        Clock { tz, offset: at - Utc::now() }
    }

    /// `DANGJIAN_TIME_ZONE` (an IANA name) and `DANGJIAN_NOW` (an RFC 3339 instant), both optional.
    pub fn from_env() -> Result<Clock, String> {
        let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let tz = match var("DANGJIAN_TIME_ZONE") {
            Some(name) => parse_time_zone(&name)?,
            None => DEFAULT_TIME_ZONE,
        };
        match var("DANGJIAN_NOW") {
            Some(at) => {
                let at = DateTime::parse_from_rfc3339(&at).map_err(|e| format!("DANGJIAN_NOW: {e} (an RFC 3339 instant such as 2024-02-29T17:30:00Z)"))?;
                Ok(Clock::starting_at(tz, at.with_timezone(&Utc)))
            }
            None => Ok(Clock::system(tz)),
        }
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Seconds added to the system's time (the database session is told the same).
    pub fn offset_secs(&self) -> i64 {
        self.offset.num_seconds()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    /// Now, in the institution's time zone.
    pub fn local_now(&self) -> DateTime<Tz> {
        self.now().with_timezone(&self.tz)
    }

    /// The institution's calendar date.
    pub fn today(&self) -> NaiveDate {
        self.local_now().date_naive()
    }

    pub fn this_year(&self) -> i32 {
        self.today().year()
    }

    /// An instant in the institution's time zone.
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.tz)
    }

    /// An instant as the institution reads it, to the minute (documents and messages).
    pub fn local_minute(&self, t: DateTime<Utc>) -> String {
        self.local(t).format("%Y-%m-%d %H:%M").to_string()
    }

    /// The instant of a wall-clock time in the institution's zone. A time skipped by a change to
    /// summer time is read as the same wall time in UTC's stead rather than refused; an ambiguous
    /// one (the hour repeated in autumn) is its earlier reading.
    pub fn instant_of(&self, local: NaiveDateTime) -> DateTime<Utc> {
        self.tz.from_local_datetime(&local).earliest().map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// The institution's midnight starting `day`, as an instant.
    pub fn midnight(&self, day: NaiveDate) -> DateTime<Utc> {
        self.instant_of(day.and_time(NaiveTime::MIN))
    }
}

/// What the web app needs to take "today" from the server rather than from the browser's clock
/// (a browser in another zone, or with a wrong clock, would otherwise offer dates the server
/// refuses as future ones).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"now": "2026-12-08T01:30:00+08:00", "today": "2026-12-08", "time_zone": "Asia/Shanghai"}))]
pub struct ClockInfo {
    /// The server's time, with the institution's UTC offset.
    pub now: DateTime<FixedOffset>,
    /// The institution's calendar date.
    pub today: NaiveDate,
    /// The institution's time zone (IANA name).
    pub time_zone: String,
}

impl Clock {
    pub fn info(&self) -> ClockInfo {
        let now = self.local_now();
        ClockInfo { now: now.fixed_offset(), today: now.date_naive(), time_zone: self.tz.name().to_string() }
    }
}

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_clock);
}

/// The institution's date and time.
///
/// Public: the login page already needs it. Every date the server checks ("not in the future",
/// this year's to-dos, month boundaries) is taken on this clock.
#[utoipa::path(
    tag = "meta",
    security(()),
    responses((status = 200, description = "Now and today, in the institution's time zone", body = ClockInfo))
)]
#[get("/clock")]
pub async fn get_clock(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(state.config.clock.info())
}

/// An IANA time zone name (`Asia/Shanghai`), or a message naming the variable.
pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| format!("DANGJIAN_TIME_ZONE: {name:?} is not an IANA time zone name such as Asia/Shanghai"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn today_is_the_institutions_date_whatever_the_process_zone() {
        // 17:30 UTC is 01:30 the next day in Beijing.
        let c = Clock::starting_at(DEFAULT_TIME_ZONE, at("2026-12-07T17:30:00Z"));
        assert_eq!(c.today(), NaiveDate::from_ymd_opt(2026, 12, 8).unwrap());
        let utc = Clock::starting_at(chrono_tz::UTC, at("2026-12-07T17:30:00Z"));
        assert_eq!(utc.today(), NaiveDate::from_ymd_opt(2026, 12, 7).unwrap());
        // New Year's Eve in UTC is already the new year in Beijing.
        let c = Clock::starting_at(DEFAULT_TIME_ZONE, at("2026-12-31T16:00:00Z"));
        assert_eq!((c.today(), c.this_year()), (NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(), 2027));
    }

    #[test]
    fn a_shifted_clock_runs_on() {
        let c = Clock::starting_at(DEFAULT_TIME_ZONE, at("2024-02-29T04:00:00Z"));
        let a = c.now();
        assert!((a - at("2024-02-29T04:00:00Z")).num_seconds().abs() < 5);
        assert!(c.now() >= a);
        assert_eq!(c.today(), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
    }

    #[test]
    fn midnight_is_the_institutions() {
        let c = Clock::system(DEFAULT_TIME_ZONE);
        assert_eq!(c.midnight(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()), at("2026-02-28T16:00:00Z"));
        let ny = Clock::system(chrono_tz::America::New_York);
        // The spring-forward gap (02:00-03:00 on 2026-03-08) does not panic.
        let gap = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap().and_hms_opt(2, 30, 0).unwrap();
        assert_eq!(ny.instant_of(gap), gap.and_utc());
        assert_eq!(ny.local_minute(at("2026-07-01T16:05:00Z")), "2026-07-01 12:05");
    }

    #[test]
    fn zone_names_are_checked() {
        assert_eq!(parse_time_zone("Asia/Urumqi").unwrap(), chrono_tz::Asia::Urumqi);
        assert!(parse_time_zone("Beijing").unwrap_err().contains("DANGJIAN_TIME_ZONE"));
    }
}
