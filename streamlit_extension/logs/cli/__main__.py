"""``python -m streamlit_extension.logs.cli``: the same ``st-logs`` (the module path it had before it was a package)."""

from . import main

raise SystemExit(main())
