"""``python -m streamlit_extension.logs``: the ``st-logs`` command line."""

from .cli import main

raise SystemExit(main())
