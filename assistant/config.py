"""The one settings object of Orientia (environment prefix ``ORIENTIA_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_data_dir"]


def default_data_dir() -> Path:
    """The per-user data folder (``~/.local/share/orientia`` on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("orientia", appauthor=False))


class Settings(BaseSettings):
    """Every setting of Orientia. Each field is documented in ``.env.example``."""

    model_config = SettingsConfigDict(
        env_prefix="ORIENTIA_",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    chroma_url: str = ""
    #: seconds a request to the Chroma server may take before the answer is a 503
    chroma_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    database_url: str = ""
    #: how long to wait at start for a database server that does not answer yet, then give up
    database_connect_seconds: float = Field(default=30.0, ge=0, le=3600)
    embedding_model: str = "e5-small"
    knowledge_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    answer_threshold: float = Field(default=0.80, ge=0.0, le=1.0)
    conversation_ttl_hours: float = Field(default=24.0, gt=0)
    htmx_url: str = ""
    llm_url: str = ""
    llm_model: str = ""
    llm_api_key: SecretStr = SecretStr("")
    #: password of the first admin account ``admin``, created at start when it does not exist
    admin_password: SecretStr = SecretStr("")
    #: largest file an admin may upload, in megabytes (413 above)
    upload_max_mb: float = Field(default=20.0, gt=0)
    #: retired index versions kept (rows and collections) so that an admin can roll back
    keep_versions: int = Field(default=3, ge=0, le=50)
    admin_token: SecretStr = SecretStr("")
    #: largest request body in bytes (413 above), except admin uploads (``upload_max_mb``)
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=1_073_741_824)
    #: questions (and admin logins) per client: "30/minute", "5/second"...; "off" disables it
    rate_limit: str = "30/minute"
    #: host names the app answers to (comma-separated); empty: local names and ``host``
    allowed_hosts: str = ""
    #: answers computed at once (more wait their turn, health checks never wait)
    answer_workers: int = Field(default=4, ge=1, le=256)
    #: seconds an ingest waits for another process's ingest to end before giving up
    index_write_wait_seconds: float = Field(default=600.0, ge=0, le=86400)
    #: app processes of ``orientia serve`` (more than one needs a Chroma server: ``chroma_url``)
    workers: int = Field(default=1, ge=1, le=64)
    #: seconds a client may take to send its request headers, or its body
    client_timeout_seconds: float = Field(default=20.0, gt=0, le=3600)
    # Observatory and privacy (issue 13)
    store_question_text: bool = True
    retention_days: float = Field(default=180.0, gt=0)
    purge_interval_minutes: float = Field(default=60.0, gt=0)
    observatory_public: bool = False

    @field_validator("chroma_url")
    @classmethod
    def _check_chroma_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("ORIENTIA_CHROMA_URL must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("rate_limit")
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        value = value.strip()
        if value.lower() == "off":
            return "off"
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(
                "ORIENTIA_RATE_LIMIT must be like '30/minute' or '5/second;100/hour', or 'off'"
            ) from None
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _check_allowed_hosts(cls, value: str) -> str:
        for name in _split(value):
            if "*" in name[1:] or (name.startswith("*") and name != "*" and not name.startswith("*.")):
                raise ValueError("ORIENTIA_ALLOWED_HOSTS: wildcards must be like '*.example.fr'")
        return value

    @property
    def trusted_hosts(self) -> list[str]:
        """Host names accepted in the Host header (``*`` accepts any)."""
        names = _split(self.allowed_hosts)
        if names:
            return names
        local = ["127.0.0.1", "localhost", "[::1]"]
        host = self.host.lower()
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 literal, as the Host header writes it
        if host not in ("0.0.0.0", "[::]", "") and host not in local:
            local.append(host)
        return local

    @property
    def sqlalchemy_url(self) -> str:
        """The relational database URL; SQLite in the data folder unless set."""
        return self.database_url or f"sqlite:///{self.data_dir / 'orientia.sqlite3'}"

    @property
    def uploads_path(self) -> Path:
        """Folder of the files uploaded by admins (``uploads/<sha256>/<name>``)."""
        return self.data_dir / "uploads"

    @property
    def chroma_path(self) -> Path:
        """Folder of the embedded Chroma store."""
        return self.data_dir / "chroma"

    @property
    def bundled_knowledge(self) -> Path:
        """The corpus ingested on first start: ``knowledge_dir`` or the packaged one."""
        if self.knowledge_dir is not None:
            return self.knowledge_dir
        import knowledge

        return Path(knowledge.__file__).parent


def _split(value: str) -> list[str]:
    """Comma-separated host names, lower-cased (IPv6 literals in brackets, as in the Host header)."""
    return [n.strip().lower() for n in value.split(",") if n.strip()]
