-- 0006: what a voice turn heard. On the visitor's message, heard is JSON {transcript, confidence,
-- alternatives}, NULL when the turn was typed; on the bot's message of a repair, offer is the
-- reading offered for the visitor to confirm, NULL otherwise. Nullable columns without a default:
-- adding them rewrites no row, and rows written before read as typed turns.
ALTER TABLE messages ADD COLUMN heard TEXT;
ALTER TABLE messages ADD COLUMN offer TEXT;
