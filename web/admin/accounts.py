"""Admin accounts, API tokens, sessions, login attempts and the audit log, in the database.

Passwords are hashed with Argon2id (``argon2-cffi``). API tokens and session ids are 256-bit
random values; only their SHA-256 is stored (a hash of a high-entropy random value cannot be
guessed back, so a slow hash adds nothing there). Everything lives in the relational store so
the CLI and several app processes share it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from assistant.store import row_dict

__all__ = ["Accounts", "AdminIdentity", "LoginRefused", "SESSION_HOURS"]

log = logging.getLogger(__name__)

metadata = sa.MetaData()

admin_users = sa.Table(
    "admin_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(128), nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
)

admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(128), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default=""),
)

#: how long an admin stays logged in without logging in again
SESSION_HOURS = 8
#: failed logins allowed per account, and per client address, within the window
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_CLIENT = 20
FAILURE_WINDOW = timedelta(minutes=15)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _pk(result) -> int:
    """The primary key of the row an INSERT created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class AdminIdentity:
    """Who makes an admin request: a logged-in account or an API token."""

    actor: str
    user_id: int | None = None
    token_id: int | None = None
    csrf_token: str = ""


class LoginRefused(Exception):
    """A login refused, with the French message to show."""

    def __init__(self, message: str, *, status_code: int = 401, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after


class Accounts:
    """Admin accounts, tokens, sessions, login attempts and audit entries."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        from assistant.migrations import upgrade

        upgrade(engine)  # nothing to do once the store opened it (the schema is at head)
        from argon2 import PasswordHasher

        self._hasher = PasswordHasher()

    # -- accounts ------------------------------------------------------------------------------

    def create_user(self, username: str, password: str) -> int:
        """Create an account. Raises ValueError (French) when the name is taken or invalid."""
        username = _check_username(username)
        _check_password(password)
        now = _now()
        try:
            with self.engine.begin() as conn:
                result = conn.execute(admin_users.insert().values(
                    username=username, password_hash=self._hasher.hash(password), created_at=now, updated_at=now,
                ))
        except sa.exc.IntegrityError:
            raise ValueError(f"le compte « {username} » existe déjà") from None
        self.audit("cli", "création de compte", username)
        return _pk(result)

    def reset_password(self, username: str, password: str) -> None:
        _check_password(password)
        with self.engine.begin() as conn:
            updated = conn.execute(
                admin_users.update().where(admin_users.c.username == username)
                .values(password_hash=self._hasher.hash(password), updated_at=_now())
            ).rowcount
            if updated:
                # A new password ends every open session of the account.
                user_id = conn.execute(sa.select(admin_users.c.id).where(admin_users.c.username == username)).scalar()
                conn.execute(admin_sessions.delete().where(admin_sessions.c.user_id == user_id))
        if not updated:
            raise ValueError(f"compte inconnu : « {username} »")
        self.audit("cli", "nouveau mot de passe", username)

    def user_exists(self, username: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(admin_users.c.id).where(admin_users.c.username == username)).first() is not None

    def bootstrap_admin(self, password: str) -> bool:
        """Create the account ``admin`` from ``ORIENTIA_ADMIN_PASSWORD`` unless it exists."""
        if not password or self.user_exists("admin"):
            return False
        try:
            self.create_user("admin", password)
        except ValueError:
            return False  # created meanwhile by another process
        log.info("Admin account 'admin' created from ORIENTIA_ADMIN_PASSWORD")
        return True

    def usernames(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r.username for r in conn.execute(sa.select(admin_users.c.username).order_by(admin_users.c.username))]

    # -- login ---------------------------------------------------------------------------------

    def login(self, username: str, password: str, *, client: str) -> tuple[str, AdminIdentity]:
        """Check a password; returns (session id for the cookie, identity).

        Raises:
            LoginRefused: wrong credentials (401) or too many failures (429).
        """
        from argon2.exceptions import InvalidHashError, VerificationError

        username = (username or "").strip()[:64]
        # The client address is personal data: only a hash of it is stored (rate limit, audit).
        client = _sha256(client)[:16]
        keys = [f"user:{username.lower()}", f"client:{client}"]
        since = _now() - FAILURE_WINDOW
        with self.engine.connect() as conn:
            failures = {
                key: conn.execute(
                    sa.select(sa.func.count()).select_from(login_attempts)
                    .where(login_attempts.c.key == key, login_attempts.c.at >= since)
                ).scalar() or 0
                for key in keys
            }
        if failures[keys[0]] >= MAX_FAILURES_PER_ACCOUNT or failures[keys[1]] >= MAX_FAILURES_PER_CLIENT:
            raise LoginRefused(
                "Trop de tentatives de connexion échouées. Réessayez dans 15 minutes.",
                status_code=429, retry_after=int(FAILURE_WINDOW.total_seconds()),
            )
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(admin_users).where(admin_users.c.username == username)).mappings().first()
        valid = False
        if row is not None:
            try:
                valid = self._hasher.verify(row["password_hash"], password or "")
            except (VerificationError, InvalidHashError):
                valid = False
        else:
            # Same work whether or not the account exists: timing reveals nothing.
            try:
                self._hasher.verify(_DUMMY_HASH.get(self._hasher), password or "")
            except (VerificationError, InvalidHashError):
                pass
        if not valid:
            with self.engine.begin() as conn:
                conn.execute(login_attempts.insert(), [{"key": k, "at": _now()} for k in keys])
            self.audit(f"adresse n° {client[:8]}", "échec de connexion", f"compte « {username} »" if username else "")
            raise LoginRefused("Identifiant ou mot de passe incorrect.")
        assert row is not None  # valid implies the account exists
        if self._hasher.check_needs_rehash(row["password_hash"]):
            with self.engine.begin() as conn:
                conn.execute(admin_users.update().where(admin_users.c.id == row["id"]).values(password_hash=self._hasher.hash(password)))
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(login_attempts.delete().where(login_attempts.c.key == keys[0]))
            conn.execute(admin_sessions.delete().where(admin_sessions.c.expires_at < now))
            conn.execute(admin_sessions.insert().values(
                id_hash=_sha256(session_id), user_id=row["id"], csrf_token=csrf,
                created_at=now, expires_at=now + timedelta(hours=SESSION_HOURS),
            ))
        self.audit(row["username"], "connexion", "")
        return session_id, AdminIdentity(actor=row["username"], user_id=row["id"], csrf_token=csrf)

    def session(self, session_id: str | None) -> AdminIdentity | None:
        """The identity of a valid, unexpired session cookie, or None."""
        if not session_id or len(session_id) > 128:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(admin_sessions.c.user_id, admin_sessions.c.csrf_token, admin_sessions.c.expires_at, admin_users.c.username)
                .join(admin_users, admin_users.c.id == admin_sessions.c.user_id)
                .where(admin_sessions.c.id_hash == _sha256(session_id))
            ).first()
        if row is None or _aware(row.expires_at) < _now():
            return None
        return AdminIdentity(actor=row.username, user_id=row.user_id, csrf_token=row.csrf_token)

    def logout(self, session_id: str | None) -> None:
        if not session_id:
            return
        with self.engine.begin() as conn:
            conn.execute(admin_sessions.delete().where(admin_sessions.c.id_hash == _sha256(session_id)))

    # -- API tokens ----------------------------------------------------------------------------

    def create_token(self, label: str = "") -> tuple[int, str]:
        """A new API token; returns (id, token). The token itself is never stored."""
        token = "ori_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            result = conn.execute(api_tokens.insert().values(
                token_hash=_sha256(token), label=(label or "")[:128], created_at=_now(),
            ))
        token_id = _pk(result)
        self.audit("cli", "création de jeton d'API", f"jeton n° {token_id}" + (f" ({label})" if label else ""))
        return token_id, token

    def token(self, token: str | None) -> AdminIdentity | None:
        """The identity of a valid API token, or None."""
        if not token or len(token) > 200:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.token_hash == _sha256(token))).mappings().first()
        if row is None:
            return None
        with self.engine.begin() as conn:
            conn.execute(api_tokens.update().where(api_tokens.c.id == row["id"]).values(last_used_at=_now()))
        label = f" ({row['label']})" if row["label"] else ""
        return AdminIdentity(actor=f"jeton n° {row['id']}{label}", token_id=row["id"])

    # -- audit ---------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, detail: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(audit_log.insert().values(at=_now(), actor=actor[:128], action=action[:64], detail=detail[:2000]))

    def audit_entries(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [
                row_dict(r) for r in conn.execute(
                    sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
                ).mappings()
            ]


class _DummyHash:
    """A hash to verify against when the account does not exist (computed once)."""

    def __init__(self) -> None:
        self._value: str | None = None

    def get(self, hasher) -> str:
        if self._value is None:
            self._value = hasher.hash(secrets.token_urlsafe(16))
        return self._value


_DUMMY_HASH = _DummyHash()


def _check_username(username: str) -> str:
    import re

    username = (username or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9._@-]{2,64}", username):
        raise ValueError("identifiant invalide : 2 à 64 caractères parmi lettres, chiffres, . _ @ -")
    return username


def _check_password(password: str) -> None:
    if len(password or "") < 10:
        raise ValueError("mot de passe trop court : 10 caractères au moins")
    if len(password) > 1024:
        raise ValueError("mot de passe trop long : 1024 caractères au plus")
