"""The database router of Django's "Multiple databases" docs: the audit log is read, written
and migrated in the "audit" database, everything else stays in "default"."""
AUDIT = "audit"


class AuditRouter:
    def db_for_read(self, model, **hints):
        return AUDIT if model._meta.model_name == "auditentry" else None

    db_for_write = db_for_read

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == AUDIT or model_name == "auditentry":
            return db == AUDIT and model_name == "auditentry"
        return None
