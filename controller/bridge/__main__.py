"""``python -m controller.bridge``: the device bridge process, for the site and data directory of the settings
(``HCC_SITE_FILE``, ``HCC_DATA_DIR``). Started by the controller's ``run``/``demo`` or by ``hcc-bridge.service``."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from ..logs import setup as setup_logging
from ..settings import Settings, SiteConfig, load_site
from .server import serve
from .supervisor import SITE_JSON_ENV


def lower_priority(nice: int) -> int:
    """Run at niceness ``nice`` (``[bridge] nice``) unless already at or below that priority; returns the
    niceness in force. A refusal (a sandbox without ``setpriority``) is logged, not fatal."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if current < nice:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
            current = nice
        except OSError as exc:
            logging.getLogger(__name__).warning("bridge: could not lower its CPU priority to nice %d: %s", nice,
                                                exc)
    return current


def main() -> int:
    settings = Settings()
    setup_logging(settings.log_level)
    site_json = os.environ.get(SITE_JSON_ENV)  # the site its supervising controller runs (supervisor.py)
    site = SiteConfig.model_validate_json(Path(site_json).read_text(encoding="utf-8")) if site_json else \
        load_site(settings.site_file)
    lower_priority(site.bridge.nice)
    asyncio.run(serve(site, settings.data_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
