"""Settings: every field documented in .env.example, prefix ORIENTIA_, validation."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from assistant import Settings

from .conftest import ROOT


def test_every_setting_is_documented_in_env_example():
    documented = set(re.findall(r"^#?\s*(ORIENTIA_[A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    expected = {f"ORIENTIA_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set(), "settings missing from .env.example"
    assert documented - expected == set(), ".env.example documents settings that do not exist"


def test_environment_prefix_and_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("ORIENTIA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ORIENTIA_PORT", "8123")
    settings = Settings(_env_file=None)
    assert settings.data_dir == tmp_path
    assert settings.port == 8123
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'orientia.sqlite3'}"
    assert settings.chroma_url == ""


def test_invalid_values_fail_fast(monkeypatch):
    monkeypatch.setenv("ORIENTIA_CHROMA_URL", "localhost:8000")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
    monkeypatch.delenv("ORIENTIA_CHROMA_URL")
    monkeypatch.setenv("ORIENTIA_PORT", "70000")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_secrets_are_not_printed(monkeypatch):
    monkeypatch.setenv("ORIENTIA_LLM_API_KEY", "sk-very-secret")
    settings = Settings(_env_file=None)
    assert "sk-very-secret" not in repr(settings)
    assert "sk-very-secret" not in str(settings.model_dump())
