"""Run the API over the fake assistant under a real uvicorn (for the browser tests of the page).

Usage: python tests/assistant/api/fake_server.py PORT   (settings from ALLY_* variables, e.g. ALLY_API_KEYS).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))


def main() -> None:
    import uvicorn

    from ally.settings import load_settings
    from assistant.api.app import create_app
    from tests.fakes import FakeAssistant

    settings = load_settings(store=Path(tempfile.mkdtemp(prefix="ally-fake-store-")))
    app = create_app(settings, FakeAssistant(settings=settings))
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
