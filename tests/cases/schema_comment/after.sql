CREATE SCHEMA added;
COMMENT ON SCHEMA added IS 'Hello; it''s new.';
CREATE SCHEMA changed;
COMMENT ON SCHEMA changed IS 'After.';
CREATE SCHEMA removed;
