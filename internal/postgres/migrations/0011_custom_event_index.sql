-- Custom events (event.emit) are entries of the event log, listed and counted per project. Without
-- an index of their own a list read every event the project kept (replies, updates, ...) to find
-- the few custom ones. The index is partial: other events pay nothing for it.
CREATE INDEX events_custom ON events (id_project, id) WHERE name = 'event.emit';
