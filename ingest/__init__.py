"""Documents -> validated records and chunks -> a new index version."""

from .pipeline import CheckResult, check, collect_files, ingest
from .problems import IngestError, Problem

__all__ = ["CheckResult", "IngestError", "Problem", "check", "collect_files", "ingest"]
