ALTER TABLE settings DROP CONSTRAINT settings_stats_band_sets_shape;
DELETE FROM settings WHERE key = 'stats.band_sets';
