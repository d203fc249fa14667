"""Administration: accounts, tokens, sessions, uploaded documents, ingest jobs, audit log."""

from .accounts import Accounts, AdminIdentity, LoginRefused
from .library import JobRunner, Library

__all__ = ["Accounts", "AdminIdentity", "JobRunner", "Library", "LoginRefused"]
