"""``python -m controller.bridge``: the device bridge process, for the site and data directory of the settings
(``HCC_SITE_FILE``, ``HCC_DATA_DIR``). Started by the controller's ``run``/``demo`` or by ``hcc-bridge.service``."""

from __future__ import annotations

import asyncio
import sys

from ..logs import setup as setup_logging
from ..settings import Settings, load_site
from .server import serve


def main() -> int:
    settings = Settings()
    setup_logging(settings.log_level)
    asyncio.run(serve(load_site(settings.site_file), settings.data_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
