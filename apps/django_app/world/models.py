from django.db import models


class World(models.Model):
    randomnumber = models.IntegerField()

    class Meta:
        db_table = "world"

    def to_dict(self):
        return {"id": self.id, "randomNumber": self.randomnumber}


class Fortune(models.Model):
    message = models.CharField(max_length=2048)

    class Meta:
        db_table = "fortune"


class AuditEntry(models.Model):
    """A row of the audit log, which lives in the second database (world/routers.py)."""
    world_id = models.IntegerField()
    randomnumber = models.IntegerField()

    class Meta:
        db_table = "audit_log"
