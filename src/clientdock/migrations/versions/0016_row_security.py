"""PostgreSQL row-level security on every tenant's table, behind the application's tenant checks

A session acting for one tenant switches to the tenant role for each transaction
(``clientdock.db.bind_tenant``: ``SET LOCAL ROLE`` and the setting ``clientdock.tenant_id``);
the policies below let that role see and write the rows of that tenant only. The login role
that runs this migration owns the tables, so it is not subject to them (no FORCE): system work
(migrations, the reaper, the job engine, platform routes, the CLI) is unchanged. The role is
cluster-wide and is kept on downgrade (other databases of the server may use it). On SQLite
nothing is done. Merges the heads before it: the policies need every table in place.

Revision ID: 0016_row_security
Revises: 0003_notify, 0004_apps, 0005_users, 0014_previews_warnings, 0015_blob_parts, 0015_executor_details
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from clientdock.settings import get_settings

revision = "0016_row_security"
down_revision = ("0003_notify", "0004_apps", "0005_users", "0014_previews_warnings", "0015_blob_parts", "0015_executor_details")
branch_labels = None
depends_on = None

#: The tenant of the session's transaction, set by ``bind_tenant`` (NULL when unset: no row).
CURRENT_TENANT = "current_setting('clientdock.tenant_id', true)"
#: Tables without a ``tenant_id`` that hang under a tenant's row: the policy asks the parent
#: (itself under row-level security for the role, and checked here by its tenant as well).
CHILD_TABLES = {
    "import_rows": f"EXISTS (SELECT 1 FROM import_jobs j WHERE j.id = import_rows.job_id AND j.tenant_id = {CURRENT_TENANT})",
}
POLICY = "tenant_rows"
#: As they are at this revision (a later table gets its policy in its own migration, and
#: ``clientdock.db.ROW_SECURED_TABLES`` lists them all).
ROW_SECURED_TABLES = (
    "api_keys",
    "app_assignments",
    "client_changes",
    "client_external_refs",
    "client_groups",
    "clients",
    "connection_oauth_states",
    "connections",
    "file_mappings",
    "import_jobs",
    "import_rows",
    "tenant_notifications",
    "users",
    "webhook_deliveries",
    "webhooks",
)


def _criterion(table: str) -> str:
    return CHILD_TABLES.get(table, f"tenant_id = {CURRENT_TENANT}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    role = get_settings().tenant_role
    # The role may exist already (another database of the server, or made by the DBA); two
    # databases migrating at once may both try to create it: the loser's error is ignored.
    # The login needs membership to SET ROLE to it (a superuser has it anyway).
    op.execute(
        f"""
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
            BEGIN
              CREATE ROLE "{role}" NOLOGIN;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END;
          END IF;
          IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
            EXECUTE format('GRANT %I TO %I', '{role}', current_user);
          END IF;
          EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), '{role}');
          EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', current_schema(), '{role}');
          EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', current_schema(), '{role}');
          -- tables and sequences that later migrations create (as this login) get the same grants
          EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', current_schema(), '{role}');
          EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO %I', current_schema(), '{role}');
        END $$
        """
    )
    for table in ROW_SECURED_TABLES:
        criterion = _criterion(table)
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f'CREATE POLICY {POLICY} ON {table} TO "{role}" USING ({criterion}) WITH CHECK ({criterion})')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    role = get_settings().tenant_role
    for table in ROW_SECURED_TABLES:
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(
        f"""
        DO $$
        BEGIN
          EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON TABLES FROM %I', current_schema(), '{role}');
          EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON SEQUENCES FROM %I', current_schema(), '{role}');
          EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', current_schema(), '{role}');
          EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM %I', current_schema(), '{role}');
          EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM %I', current_schema(), '{role}');
        END $$
        """
    )
