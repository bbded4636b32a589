-- Access tokens issued before this moment are refused: a password change
-- ends the sessions it is meant to end at once, not when their access
-- tokens expire. Whole seconds, as a token's iat is.
ALTER TABLE users ADD COLUMN tokens_valid_after timestamptz;
