CREATE TABLE prices (
    amount numeric,
    currency text,
    CONSTRAINT prices_amount_check CHECK (amount >= 0),
    CONSTRAINT prices_currency_check CHECK (currency IN ('EUR', 'USD')),
    CONSTRAINT prices_currency_len CHECK (length(currency) = 3)
);
COMMENT ON CONSTRAINT prices_currency_check ON prices IS 'Supported currencies, for now.';
COMMENT ON CONSTRAINT prices_currency_len ON prices IS 'ISO code.';
