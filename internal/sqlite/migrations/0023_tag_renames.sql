-- A library tag's former name, while the conversations and leads that carry it are renamed.
ALTER TABLE project_tags ADD COLUMN renamed_from TEXT;
