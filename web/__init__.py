"""FastAPI + Jinja2 + HTMX pages, the JSON API, and the ``orientia`` command."""

__all__ = ["create_app"]


def __getattr__(name: str):
    # Lazy: importing ``web`` must not import FastAPI, Chroma or a model.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
