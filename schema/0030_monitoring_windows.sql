-- The freshness window and the outage time in seconds, not only whole minutes: a small
-- deployment (or a test of several sites) whose monitors probe every few seconds judges
-- staleness and outages on that scale. Keep outage_after below freshness_window by more than
-- one probe cycle: otherwise, when every monitor stops, the servers scored longest ago become
-- stale in the seconds before the outage is declared and freezes the pool.
ALTER TABLE monitoring_settings
  DROP CONSTRAINT monitoring_settings_freshness_window_check,
  DROP CONSTRAINT monitoring_settings_outage_after_check,
  ADD CONSTRAINT monitoring_settings_freshness_window_check
    CHECK (freshness_window >= interval '10 seconds'),
  ADD CONSTRAINT monitoring_settings_outage_after_check
    CHECK (outage_after >= interval '5 seconds');

