-- A project's keys (POST /:pid/keys/generate): the secret that signs its customers' tokens
-- (sign-in with a custom token), and the public half of the key pair handed out beside it.
ALTER TABLE projects ADD COLUMN jwt_secret TEXT;
ALTER TABLE projects ADD COLUMN public_key TEXT;
