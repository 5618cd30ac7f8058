"""The audit chain is keyed, and the database refuses events outside it.

From here on each event's hash is an HMAC-SHA256 under the application's AUDIT_KEY, so a chain
rewritten by someone without the key no longer verifies. The key is never stored in the
database: the INSERT of an event hands it over with set_config(..., is_local => true), which
lasts until that transaction ends, and on PostgreSQL the commit-time link reads it from there
(an event inserted without it cannot commit). SQLite links in the INSERT itself, with an HMAC
function the application registers on its connections.

A migration cannot re-key history without the key: events linked so far keep their plain
SHA-256 links, and `audit_chain_cutover` records the last of them; `verify` checks them as
before and every later event against the key.

An event must be linked into the chain: SQLite refuses an INSERT without sequence, prev_hash
and hash; PostgreSQL refuses one that the commit would not link (the application inserts each
event with only its pending link text, and the database fills in the rest).

Revision ID: 9b2c3d4e5f01
Revises: 9a1b2c3d4e04
Create Date: 2026-12-06 16:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '9b2c3d4e5f01'
down_revision = '9a1b2c3d4e04'
branch_labels = None
depends_on = None

# HMAC-SHA256 (RFC 2104) with PostgreSQL's built-in sha256(): no extension needed.
HMAC = r"""
CREATE FUNCTION audit_hmac(key bytea, message bytea) RETURNS text AS $$
DECLARE
    k bytea := key;
    inner_pad bytea;
    outer_pad bytea;
BEGIN
    IF length(k) > 64 THEN
        k := sha256(k);
    END IF;
    k := k || decode(repeat('00', 64 - length(k)), 'hex');
    inner_pad := k;
    outer_pad := k;
    FOR i IN 0..63 LOOP
        inner_pad := set_byte(inner_pad, i, get_byte(k, i) # 54);
        outer_pad := set_byte(outer_pad, i, get_byte(k, i) # 92);
    END LOOP;
    RETURN encode(sha256(outer_pad || sha256(inner_pad || message)), 'hex');
END;
$$ LANGUAGE plpgsql IMMUTABLE STRICT
"""

# As in `audit_link_at_commit`, now keyed; 7311020261121 is chain.CHAIN_LOCK_KEY.
KEYED_LINK = r"""
CREATE OR REPLACE FUNCTION audit_events_link() RETURNS trigger AS $$
DECLARE
    last_sequence bigint;
    last_hash text;
    chain_key text := current_setting('telehealth.audit_key', true);
BEGIN
    IF chain_key IS NULL OR chain_key = '' THEN
        RAISE EXCEPTION 'audit events are linked only with the chain key';
    END IF;
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
           hash = audit_hmac(convert_to(chain_key, 'UTF8'), convert_to(
               last_hash || split_part(NEW.link_pending, E'\n', 1)
               || (last_sequence + 1)::text || split_part(NEW.link_pending, E'\n', 2),
               'UTF8')),
           link_pending = NULL
     WHERE id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql VOLATILE
"""

UNKEYED_LINK = r"""
CREATE OR REPLACE FUNCTION audit_events_link() RETURNS trigger AS $$
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

# The application inserts every event unlinked, with its pending link text; the commit links
# it. Anything else (no sequence and nothing to link, or links made up by the writer) is not.
ONLY_PENDING = """
CREATE FUNCTION audit_events_only_pending() RETURNS trigger AS $$
BEGIN
    IF NEW.sequence IS NULL AND NEW.prev_hash IS NULL AND NEW.hash IS NULL
       AND NEW.link_pending IS NOT NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are only inserted to be linked into the chain';
END;
$$ LANGUAGE plpgsql
"""

ONLY_PENDING_TRIGGER = """
CREATE TRIGGER audit_events_only_pending BEFORE INSERT ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_only_pending()
"""

CUTOVER_APPEND_ONLY = """
CREATE FUNCTION audit_chain_cutover_fixed() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_chain_cutover is fixed';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        'audit_chain_cutover',
        sa.Column('unkeyed_through', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint('unkeyed_through', name=op.f('pk_audit_chain_cutover')),
    )
    op.execute(
        "INSERT INTO audit_chain_cutover (unkeyed_through) "
        "SELECT coalesce(max(sequence), 0) FROM audit_events"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(HMAC)
        op.execute(KEYED_LINK)
        op.execute(ONLY_PENDING)
        op.execute(ONLY_PENDING_TRIGGER)
        op.execute(CUTOVER_APPEND_ONLY)
        op.execute(
            "CREATE TRIGGER audit_chain_cutover_fixed BEFORE INSERT OR UPDATE OR DELETE "
            "ON audit_chain_cutover FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_cutover_fixed()"
        )
        return
    op.execute(
        "CREATE TRIGGER audit_events_linked_only BEFORE INSERT ON audit_events "
        "WHEN NEW.sequence IS NULL OR NEW.prev_hash IS NULL OR NEW.hash IS NULL "
        "BEGIN SELECT RAISE(ABORT, 'audit events must be linked into the chain'); END"
    )
    for action in ("INSERT", "UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_chain_cutover_no_{action.lower()} BEFORE {action} "
            "ON audit_chain_cutover BEGIN SELECT RAISE(ABORT, 'audit_chain_cutover is fixed'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_chain_cutover_fixed ON audit_chain_cutover")
        op.execute("DROP FUNCTION audit_chain_cutover_fixed()")
        op.execute("DROP TRIGGER audit_events_only_pending ON audit_events")
        op.execute("DROP FUNCTION audit_events_only_pending()")
        op.execute(UNKEYED_LINK)
        op.execute("DROP FUNCTION audit_hmac(bytea, bytea)")
    else:
        op.execute("DROP TRIGGER audit_events_linked_only")
        for action in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER audit_chain_cutover_no_{action.lower()}")
    op.drop_table('audit_chain_cutover')
