"""Imports every feature's models so that `Base.metadata` is complete (Alembic, tests)."""

from backoffice.analytics import models as analytics_models
from backoffice.training import models as training_models
from channels import models as channels_models
from core.database import Base
from engine.conversations import models as conversations_models
from engine.experiments import models as experiments_models
from engine.inbox import models as inbox_models
from handoff import models as handoff_models
from locales.tone import models as tone_models
from money.arrangements import models as arrangements_models
from money.disputes import models as disputes_models
from money.hardship import models as hardship_models
from money.holds import models as holds_models
from money.ledger import models as ledger_models
from money.outreach import models as outreach_models
from money.reminders import models as reminders_models
from payments import models as payments_models
from people.audit import models as audit_models
from people.auth import models as auth_models
from people.consent import models as consent_models
from people.debtors import models as debtors_models
from people.gdpr import models as gdpr_models
from people.identity import models as identity_models
from people.portfolio import models as portfolio_models

__all__ = [
    "Base",
    "analytics_models",
    "arrangements_models",
    "audit_models",
    "auth_models",
    "channels_models",
    "consent_models",
    "conversations_models",
    "debtors_models",
    "disputes_models",
    "experiments_models",
    "gdpr_models",
    "handoff_models",
    "hardship_models",
    "holds_models",
    "identity_models",
    "inbox_models",
    "ledger_models",
    "outreach_models",
    "payments_models",
    "portfolio_models",
    "reminders_models",
    "tone_models",
    "training_models",
]
