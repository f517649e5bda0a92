-- Band sets of the party statistics (docs/domain.md, Party statistics: band sets are configuration,
-- since they change between years). stats::bands reads and checks this setting; each set applies
-- to as-of dates from its `from` until the next set's (the earliest also before its own `from`).
--
-- "2023": the 2023 bulletin's age bands and four joining periods, with 党龄 in ten-year bands.
-- "earlier": the seven finer joining periods and coarser age bands of earlier years' layouts.
-- The date the layouts switch (2017-01-01) is a seeded default: an institution that reported
-- in the four-period layout earlier or later edits `from` (UPDATE settings), not code.
INSERT INTO settings (key, value) VALUES ('stats.band_sets', $json$
{
  "sets": [
    {
      "name": "2023",
      "from": "2017-01-01",
      "age": [
        {"key": "le30",  "label": "30岁及以下", "max": 30},
        {"key": "31_35", "label": "31至35岁", "min": 31, "max": 35},
        {"key": "36_40", "label": "36至40岁", "min": 36, "max": 40},
        {"key": "41_45", "label": "41至45岁", "min": 41, "max": 45},
        {"key": "46_50", "label": "46至50岁", "min": 46, "max": 50},
        {"key": "51_55", "label": "51至55岁", "min": 51, "max": 55},
        {"key": "56_60", "label": "56至60岁", "min": 56, "max": 60},
        {"key": "ge61",  "label": "61岁及以上", "min": 61}
      ],
      "joined_period": [
        {"key": "before_1949_10",  "label": "1949年10月以前（新中国成立前）", "until": "1949-10-01"},
        {"key": "1949_10_1978_12", "label": "1949年10月至1978年12月", "from": "1949-10-01", "until": "1979-01-01"},
        {"key": "1979_01_2012_10", "label": "1979年1月至2012年10月", "from": "1979-01-01", "until": "2012-11-01"},
        {"key": "from_2012_11",    "label": "2012年11月以后（党的十八大以来）", "from": "2012-11-01"}
      ],
      "party_standing": [
        {"key": "lt10",  "label": "不满10年", "max": 9},
        {"key": "10_19", "label": "10至19年", "min": 10, "max": 19},
        {"key": "20_29", "label": "20至29年", "min": 20, "max": 29},
        {"key": "30_39", "label": "30至39年", "min": 30, "max": 39},
        {"key": "40_49", "label": "40至49年", "min": 40, "max": 49},
        {"key": "ge50",  "label": "50年及以上", "min": 50}
      ]
    },
    {
      "name": "earlier",
      "from": "1900-01-01",
      "age": [
        {"key": "le35",  "label": "35岁及以下", "max": 35},
        {"key": "36_45", "label": "36至45岁", "min": 36, "max": 45},
        {"key": "46_59", "label": "46至59岁", "min": 46, "max": 59},
        {"key": "ge60",  "label": "60岁及以上", "min": 60}
      ],
      "joined_period": [
        {"key": "before_1937_07",  "label": "1937年7月以前", "until": "1937-07-01"},
        {"key": "1937_07_1945_08", "label": "1937年7月至1945年8月", "from": "1937-07-01", "until": "1945-09-01"},
        {"key": "1945_09_1949_09", "label": "1945年9月至1949年9月", "from": "1945-09-01", "until": "1949-10-01"},
        {"key": "1949_10_1966_04", "label": "1949年10月至1966年4月", "from": "1949-10-01", "until": "1966-05-01"},
        {"key": "1966_05_1976_10", "label": "1966年5月至1976年10月", "from": "1966-05-01", "until": "1976-11-01"},
        {"key": "1976_11_1978_12", "label": "1976年11月至1978年12月", "from": "1976-11-01", "until": "1979-01-01"},
        {"key": "from_1979_01",    "label": "1979年1月以后", "from": "1979-01-01"}
      ],
      "party_standing": [
        {"key": "lt10",  "label": "不满10年", "max": 9},
        {"key": "10_19", "label": "10至19年", "min": 10, "max": 19},
        {"key": "20_29", "label": "20至29年", "min": 20, "max": 29},
        {"key": "30_39", "label": "30至39年", "min": 30, "max": 39},
        {"key": "40_49", "label": "40至49年", "min": 40, "max": 49},
        {"key": "ge50",  "label": "50年及以上", "min": 50}
      ]
    }
  ]
}
$json$::jsonb)
ON CONFLICT (key) DO NOTHING;

-- The setting's outline is checked on write too, so a hand edit that loses the sets fails at
-- once; stats::bands checks the rest (contiguous bands, reserved keys, dates) when it loads them.
ALTER TABLE settings ADD CONSTRAINT settings_stats_band_sets_shape
    CHECK (key <> 'stats.band_sets' OR (jsonb_typeof(value -> 'sets') = 'array' AND jsonb_array_length(value -> 'sets') > 0));
