-- Fixed-window request counters (API rate limits, sign-in throttling), shared by every node.
-- Keep in step with the other backend's 0005_rate_limits.sql.

CREATE TABLE rate_limits (
    bucket       TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_window_start ON rate_limits (window_start);
