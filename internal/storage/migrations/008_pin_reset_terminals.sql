-- The terminals the Organization authorised to reset PINs (第3 1 初期化):
-- their card agents hold a terminal key the cards trust (docs/CARD.md §5a).
-- The gateway refuses a reset at any other terminal before a case exists;
-- the card refuses it on its own too.
ALTER TABLE terminals ADD COLUMN pin_reset boolean NOT NULL DEFAULT false;
