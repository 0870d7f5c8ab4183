-- Erasure of a constituent's personal data (mla_core.privacy): the rows stay for the office's statistics
-- (category, area, dates, status), what names or reaches the person goes. An SMS row keeps its purpose,
-- status and dates without its recipient; `erased_at` says a complaint or a call was anonymised (and
-- keeps a later retention pass from counting it again). `description` stays NOT NULL: an erased one
-- reads '[erased]'. The generated `search` column follows the erased columns by itself.

ALTER TABLE notifications ALTER COLUMN recipient DROP NOT NULL;
ALTER TABLE complaints ADD COLUMN erased_at timestamptz;
ALTER TABLE calls ADD COLUMN erased_at timestamptz;
