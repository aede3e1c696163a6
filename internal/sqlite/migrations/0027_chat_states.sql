-- What each chat user did to a conversation in its own list (the chat21 protocol): when it last
-- read it, when it archived it.
CREATE TABLE chat_states (
	id_project TEXT NOT NULL,
	request_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	read_at BIGINT,
	archived_at BIGINT,
	PRIMARY KEY (id_project, user_id, request_id)
);
