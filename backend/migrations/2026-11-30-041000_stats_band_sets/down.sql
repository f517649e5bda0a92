DELETE FROM settings WHERE key = 'stats.band_sets';
