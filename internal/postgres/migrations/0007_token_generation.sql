-- Every token a user is issued carries the user's token generation; a request whose token carries
-- an older one is refused. Changing the password and deleting the account move it, which ends
-- every session opened before. Tokens issued before this column existed carry none, read as 0.
ALTER TABLE users ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;
