-- Emails are compared with ASCII letters folded to lower case and every other character as it is
-- (tiledesk.EmailKey). Keys written before with Unicode folding differ only where an email holds a
-- non-ASCII capital; they are written again. SQLite's lower() folds ASCII letters only.
UPDATE leads SET email_key = lower(email) WHERE email_key <> lower(email);
UPDATE requests SET requester_email = (
	SELECT l.email_key FROM leads l WHERE l.id_project = requests.id_project AND l.id = requests.lead)
WHERE EXISTS (SELECT 1 FROM leads l WHERE l.id_project = requests.id_project AND l.id = requests.lead
	AND l.email_key <> requests.requester_email);
