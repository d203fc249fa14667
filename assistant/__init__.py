"""Orientia's core: question -> grounded answer. Imports neither ``web`` nor ``ingest``."""

from .config import Settings
from .errors import BadRequest, NotFound, NotReady, OrientiaError
from .index import Index, KnowledgeBase, PublishReport
from .models import (
    Answer,
    Certification,
    CertificationSummary,
    Citation,
    Profile,
    Role,
    SourcePassage,
    StudySection,
    Training,
    TrainingSummary,
)
from .service import AnswerTimings, Assistant, TrainingFilters

__all__ = [
    "Answer", "AnswerTimings", "Assistant", "BadRequest", "Certification", "CertificationSummary",
    "Citation", "Index", "KnowledgeBase", "NotFound", "NotReady", "OrientiaError", "Profile",
    "PublishReport", "Role", "Settings", "SourcePassage", "StudySection", "Training",
    "TrainingFilters", "TrainingSummary",
]
