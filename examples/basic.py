"""A runnable example: one interaction, written as JSON lines to
examples/logs/example.<host>-<pid>.jsonl (beside this file: never into the demo's logs/, where
the Log Explorer would show it among the app's interactions).

    python examples/basic.py            # loguru's serialize=True format
    LOG_FORMAT=flat python examples/basic.py
"""

import logging
from pathlib import Path

from loguru import logger

from streamlit_extension.utils.correlation_logging import (
    correlation_logger,
    correlation_scope,
    setup_logging,
    with_correlation_logging,
)

legacy = logging.getLogger("legacy.repository")
LOG_PATH = Path(__file__).resolve().parent / "logs" / "example.jsonl"


@with_correlation_logging("create_client", lambda client_data: {"client_key": client_data.get("client_key")})
def create_client(client_data: dict) -> None:
    legacy.info("inserting client %s", client_data["client_key"], extra={"table": "clients"})
    logger.info("client created")


def main() -> None:
    handle = setup_logging(log_path=str(LOG_PATH))
    with correlation_scope():
        with correlation_logger.track_operation("render_clients_page", {"page": "Clients"}):
            create_client({"client_key": "ACME", "name": "Acme Ltd", "api_key": "never-written"})
    handle.close()
    print(f"wrote {handle.file_path}")


if __name__ == "__main__":
    main()
