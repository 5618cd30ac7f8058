"""On PostgreSQL the audit chain is linked at commit, by the database.

A request inserts its event with `link_pending` (its canonical text around the sequence
number) and takes no lock; a deferred constraint trigger, run inside COMMIT, takes the chain
lock, reads the last link and fills in sequence, prev_hash and hash. The lock is then held
only while the database commits, never while the application runs, so concurrent requests
stop queueing behind one another. The hash is the same as before (see telehealth.audit.chain).

The append-only rule still refuses every UPDATE but that one: filling an unlinked event's
chain columns, once, with nothing else changed. SQLite serializes its transactions, so there
the application links each event as it inserts it, and its triggers are unchanged.

Revision ID: 5b1e0c7d9a21
Revises: 444708c2b2e7
Create Date: 2026-11-21 04:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '5b1e0c7d9a21'
down_revision = '444708c2b2e7'
branch_labels = None
depends_on = None

CHAIN_COLUMNS = "'sequence' - 'prev_hash' - 'hash' - 'link_pending'"

APPEND_ONLY_ALLOWING_THE_LINK = f"""
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.sequence IS NULL AND OLD.link_pending IS NOT NULL
       AND NEW.sequence IS NOT NULL AND NEW.link_pending IS NULL
       AND to_jsonb(NEW) - {CHAIN_COLUMNS} = to_jsonb(OLD) - {CHAIN_COLUMNS} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql
"""

# Each statement of a VOLATILE function takes a fresh snapshot, so the SELECT after the lock
# sees the link the previous holder committed. 7311020261121 is chain.CHAIN_LOCK_KEY.
LINK = r"""
CREATE FUNCTION audit_events_link() RETURNS trigger AS $$
DECLARE
    last_sequence bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(7311020261121);
    SELECT sequence, hash INTO last_sequence, last_hash
      FROM audit_events WHERE sequence IS NOT NULL ORDER BY sequence DESC LIMIT 1;
    IF NOT FOUND THEN
        last_sequence := 0;
        last_hash := repeat('0', 64);
    END IF;
    UPDATE audit_events
       SET sequence = last_sequence + 1,
           prev_hash = last_hash,
           hash = encode(sha256(convert_to(
               last_hash || split_part(NEW.link_pending, E'\n', 1)
               || (last_sequence + 1)::text || split_part(NEW.link_pending, E'\n', 2),
               'UTF8')), 'hex'),
           link_pending = NULL
     WHERE id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql VOLATILE
"""

LINK_TRIGGER = """
CREATE CONSTRAINT TRIGGER audit_events_link AFTER INSERT ON audit_events
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.link_pending IS NOT NULL) EXECUTE FUNCTION audit_events_link()
"""


def upgrade() -> None:
    op.add_column('audit_events', sa.Column('link_pending', sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_ALLOWING_THE_LINK)
        op.execute(LINK)
        op.execute(LINK_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_link ON audit_events")
        op.execute("DROP FUNCTION audit_events_link()")
        op.execute(APPEND_ONLY)
        op.drop_column('audit_events', 'link_pending')
        return
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('link_pending')
    # Dropping a column makes SQLite rebuild the table, which loses its triggers.
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS audit_events_no_{action.lower()} BEFORE {action} "
            "ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
