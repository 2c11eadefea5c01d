"""Running the WSGI app under gunicorn, configured from ``yapdns serve`` options."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class YapdnsServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with our options; the app is imported in each worker (after fork)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from yapdns.server.wsgi import application

        return application
