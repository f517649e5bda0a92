//! Band sets (age bands, joining periods, 党龄 bands) are configuration, not code: the bulletins
//! changed them between years (docs/domain.md, Party statistics: the 2023 bulletin has four joining
//! periods, earlier years seven). They live in the `settings` row [`SETTING_KEY`], seeded by the
//! migration `*_stats_band_sets`; each set applies from its `from` date until the next set's, so a
//! figure for a past date keeps the bands of its time. The earliest set also covers dates before it.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::schema::settings;

pub const SETTING_KEY: &str = "stats.band_sets";

/// Keys the structure uses for its own buckets; a configured band may not take them.
const RESERVED_KEYS: [&str; 2] = ["unknown", "probationary"];

/// A band of whole years, both ends inclusive; the first has no `min`, the last no `max`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearBand {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub min: Option<i32>,
    #[serde(default)]
    pub max: Option<i32>,
}

/// A period of dates: `from` inclusive, `until` exclusive; the first has no `from`, the last no `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandSet {
    pub name: String,
    /// The first as-of date this set applies to.
    pub from: NaiveDate,
    pub age: Vec<YearBand>,
    pub joined_period: Vec<Period>,
    /// 党龄 (years since full membership, docs/domain.md, Members).
    pub party_standing: Vec<YearBand>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandSets {
    pub sets: Vec<BandSet>,
}

impl BandSet {
    /// For year bands (age, 党龄) on `as_of`: the earliest date from which someone is younger
    /// than each band's `min`, ascending. Someone born on d is at least m years old on as_of iff
    /// d <= as_of - m years (a 29 February birthday counts from 28 February, as `age()` does), so
    /// `width_bucket(d, thresholds)` = the number of band starts not yet reached; see
    /// [`BandSet::year_band_bucket`].
    pub fn birth_thresholds(bands: &[YearBand], as_of: NaiveDate) -> Vec<NaiveDate> {
        bands
            .iter()
            .skip(1)
            .rev()
            .filter_map(|b| b.min)
            .filter_map(|m| u32::try_from(m).ok())
            .filter_map(|m| as_of.checked_sub_months(chrono::Months::new(m.saturating_mul(12))))
            .filter_map(|d| d.succ_opt())
            .collect()
    }

    /// The `width_bucket` over [`BandSet::birth_thresholds`] of band `i`.
    pub fn year_band_bucket(bands: &[YearBand], i: usize) -> usize {
        bands.len().saturating_sub(1).saturating_sub(i)
    }

    pub fn period_thresholds(&self) -> Vec<NaiveDate> {
        self.joined_period.iter().skip(1).filter_map(|p| p.from).collect()
    }
}

impl BandSets {
    /// The set that applies on `as_of`: the latest one starting on or before it, else the earliest.
    pub fn for_date(&self, as_of: NaiveDate) -> &BandSet {
        // validate() guarantees at least one set, sorted by `from`.
        let mut chosen = &self.sets[0];
        for s in &self.sets {
            if s.from <= as_of {
                chosen = s;
            }
        }
        chosen
    }

    /// Parses and checks the setting's value, so that a broken setting is a clear error, not a
    /// wrong figure or a panic. The sets come back sorted by `from`.
    pub fn parse(value: serde_json::Value) -> Result<BandSets, String> {
        let mut sets: BandSets = serde_json::from_value(value).map_err(|e| e.to_string())?;
        if sets.sets.is_empty() {
            return Err("no band set".into());
        }
        sets.sets.sort_by_key(|s| s.from);
        for w in sets.sets.windows(2) {
            if w[0].from == w[1].from {
                return Err(format!("sets {:?} and {:?} start on the same date", w[0].name, w[1].name));
            }
        }
        for s in &sets.sets {
            check_set(s).map_err(|e| format!("set {:?}: {e}", s.name))?;
        }
        Ok(sets)
    }
}

fn check_keys<'a>(what: &str, keys: impl Iterator<Item = (&'a str, &'a str)>) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for (key, label) in keys {
        if key.is_empty() || label.is_empty() {
            return Err(format!("{what}: every band needs a key and a label"));
        }
        if RESERVED_KEYS.contains(&key) {
            return Err(format!("{what}: the key {key:?} is reserved"));
        }
        if !seen.insert(key) {
            return Err(format!("{what}: the key {key:?} appears twice"));
        }
    }
    Ok(())
}

fn check_years(what: &str, bands: &[YearBand]) -> Result<(), String> {
    check_keys(what, bands.iter().map(|b| (b.key.as_str(), b.label.as_str())))?;
    let (Some(first), Some(last)) = (bands.first(), bands.last()) else {
        return Err(format!("{what}: no band"));
    };
    if first.min.is_some() || last.max.is_some() {
        return Err(format!("{what}: the first band must have no min and the last no max, so every value has a band"));
    }
    for w in bands.windows(2) {
        match (w[0].max, w[1].min) {
            (Some(max), Some(min)) if min == max + 1 => {}
            _ => return Err(format!("{what}: band {:?} must start the year after {:?} ends", w[1].key, w[0].key)),
        }
    }
    for b in bands {
        if let (Some(min), Some(max)) = (b.min, b.max)
            && max < min
        {
            return Err(format!("{what}: band {:?} ends before it starts", b.key));
        }
    }
    Ok(())
}

fn check_set(s: &BandSet) -> Result<(), String> {
    if s.name.is_empty() {
        return Err("the set needs a name".into());
    }
    check_years("age", &s.age)?;
    check_years("party_standing", &s.party_standing)?;
    let periods = s.joined_period.as_slice();
    check_keys("joined_period", periods.iter().map(|p| (p.key.as_str(), p.label.as_str())))?;
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return Err("joined_period: no period".into());
    };
    if first.from.is_some() || last.until.is_some() {
        return Err("joined_period: the first period must have no from and the last no until".into());
    }
    for w in periods.windows(2) {
        match (w[0].until, w[1].from) {
            (Some(until), Some(from)) if until == from => {}
            _ => return Err(format!("joined_period: {:?} must start where {:?} ends", w[1].key, w[0].key)),
        }
    }
    for p in periods {
        if let (Some(from), Some(until)) = (p.from, p.until)
            && until <= from
        {
            return Err(format!("joined_period: {:?} ends before it starts", p.key));
        }
    }
    Ok(())
}

/// Loads the configured band sets. A missing or broken setting is a 500 whose log names the
/// setting and the fault.
pub async fn load(conn: &mut AsyncPgConnection) -> Result<BandSets, AppError> {
    let value: Option<serde_json::Value> = settings::table.filter(settings::key.eq(SETTING_KEY)).select(settings::value).first(conn).await.optional()?;
    let value = value.ok_or_else(|| AppError::internal(format!("setting {SETTING_KEY} is missing (run the migrations)")))?;
    BandSets::parse(value).map_err(|e| AppError::internal(format!("setting {SETTING_KEY} is invalid: {e}")))
}
