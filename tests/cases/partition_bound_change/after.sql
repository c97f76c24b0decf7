CREATE TABLE events (kind text NOT NULL) PARTITION BY LIST (kind);
CREATE TABLE events_click PARTITION OF events FOR VALUES IN ('click', 'tap');
CREATE TABLE events_view PARTITION OF events FOR VALUES IN ('view');
CREATE TABLE events_new PARTITION OF events FOR VALUES IN ('new');
