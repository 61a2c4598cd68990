"""Imports every feature's models so that `Base.metadata` is complete (Alembic, tests)."""

from analytics import models as analytics_models
from app.database import Base
from arrangements import models as arrangements_models
from audit import models as audit_models
from auth import models as auth_models
from channels import models as channels_models
from consent import models as consent_models
from conversations import models as conversations_models
from debtors import models as debtors_models
from disputes import models as disputes_models
from experiments import models as experiments_models
from gdpr import models as gdpr_models
from handoff import models as handoff_models
from hardship import models as hardship_models
from holds import models as holds_models
from identity import models as identity_models
from inbox import models as inbox_models
from ledger import models as ledger_models
from payments import models as payments_models
from reminders import models as reminders_models
from tone import models as tone_models
from training import models as training_models

__all__ = [
    "analytics_models",
    "audit_models",
    "experiments_models",
    "gdpr_models",
    "reminders_models",
    "tone_models",
    "training_models",
    "Base",
    "arrangements_models",
    "auth_models",
    "channels_models",
    "disputes_models",
    "handoff_models",
    "hardship_models",
    "holds_models",
    "consent_models",
    "conversations_models",
    "inbox_models",
    "debtors_models",
    "identity_models",
    "ledger_models",
    "payments_models",
]
