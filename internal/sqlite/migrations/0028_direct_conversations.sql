-- A chat user's direct conversations (the chat21 protocol) are read by sender and by recipient.
CREATE INDEX direct_messages_by_sender ON direct_messages (id_project, sender, created_at);
CREATE INDEX direct_messages_by_recipient ON direct_messages (id_project, recipient, created_at);
