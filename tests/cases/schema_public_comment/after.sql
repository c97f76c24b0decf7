COMMENT ON SCHEMA public IS 'Our main schema.';
