-- Emails are compared with ASCII letters folded to lower case and every other character as it is
-- (tiledesk.EmailKey). Keys written before with Unicode folding differ only where an email holds a
-- non-ASCII capital; they are written again. PostgreSQL's lower() folds every script, so the
-- ASCII letters are translated one by one.
UPDATE leads SET email_key = translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
WHERE email_key <> translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
UPDATE requests r SET requester_email = l.email_key
FROM leads l
WHERE l.id_project = r.id_project AND l.id = r.lead AND l.email_key <> r.requester_email;
