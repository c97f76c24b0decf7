CREATE TYPE added AS ENUM ('a');
COMMENT ON TYPE added IS 'Now with a comment; it''s nice.';
CREATE TYPE changed AS ENUM ('a');
COMMENT ON TYPE changed IS 'After.';
CREATE TYPE removed AS ENUM ('a');
