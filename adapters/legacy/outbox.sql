-- The Omnibus transactional outbox (PostgreSQL >= 11). Install with `omnibus adapter legacy install-outbox`;
-- safe to run again. `omnibus_outbox` is replaced by the configured table name.
--
-- The business system writes one row per fact IN THE SAME TRANSACTION as the business change:
--   INSERT INTO omnibus_outbox (aggregate_type, aggregate_id, event_type, payload)
--   VALUES ('account', 'ACC-100234', 'AccountOpened', '{"account_number": "ACC-100234", ...}');
-- so the fact is published if and only if the change committed.
--
-- Why not publish in `id` order: a bigserial value is taken when the row is INSERTed, not when its
-- transaction commits. Transaction A can insert id 10, transaction B insert id 11 and commit first; a
-- relay reading "id > last id" would move past 10 before A commits and never see it, and even a relay
-- that re-reads every unpublished row would publish B's fact about an aggregate before A's older one
-- whenever B inserted its outbox row earlier in its transaction than A did.
--
-- What we do instead: a DEFERRED constraint trigger runs at COMMIT time and stamps each row with
-- `commit_seq` from a sequence. Two transactions that change the same aggregate are serialised by the
-- aggregate's row lock, so the later one cannot reach its COMMIT (and take its number) before the
-- earlier one has committed: per aggregate (= Kafka key), commit_seq order is commit order. Across
-- unrelated aggregates a number taken just before a slow commit may become visible after a larger one;
-- that order is not observable by any consumer (Kafka orders per key only). Nothing is ever skipped:
-- the relay reads every row whose `published_at` is still NULL, in commit_seq order.
-- The trigger also NOTIFYs the relay, which otherwise looks every poll_interval_s.

CREATE TABLE IF NOT EXISTS omnibus_outbox (
    id              bigserial   PRIMARY KEY,
    aggregate_type  text        NOT NULL,
    aggregate_id    text        NOT NULL,
    event_type      text        NOT NULL,
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    commit_seq      bigint,
    refused_reason  text
);
COMMENT ON COLUMN omnibus_outbox.published_at IS 'Set by the relay once Kafka acknowledged the event (or the row was dead-lettered).';
COMMENT ON COLUMN omnibus_outbox.commit_seq IS 'Taken at COMMIT by the omnibus_outbox_stamp trigger: the publishing order.';
COMMENT ON COLUMN omnibus_outbox.refused_reason IS 'Why the relay dead-lettered this row instead of publishing it.';

CREATE SEQUENCE IF NOT EXISTS omnibus_outbox_commit_seq;

CREATE INDEX IF NOT EXISTS omnibus_outbox_unpublished
    ON omnibus_outbox (commit_seq, id) WHERE published_at IS NULL;

CREATE OR REPLACE FUNCTION omnibus_outbox_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE omnibus_outbox SET commit_seq = nextval('omnibus_outbox_commit_seq')
     WHERE id = NEW.id AND commit_seq IS NULL;
    PERFORM pg_notify('omnibus_outbox', '');
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS omnibus_outbox_stamp ON omnibus_outbox;
CREATE CONSTRAINT TRIGGER omnibus_outbox_stamp
    AFTER INSERT ON omnibus_outbox
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION omnibus_outbox_stamp();
