"""The demo app's pages, run by ``st.navigation`` in ``streamlit_extension/app.py``.

Each page module (``clients``, ``projects``) defines one ``render_*_page()`` function and calls it
when Streamlit executes the file as a page script; importing the module (in tests, say) renders
nothing. ``sections``, ``feedback`` and ``backend`` are what the two pages share. The Log Explorer
is not a demo page: it is ``streamlit_extension.explorer``, which ``app.py`` adds as any app would.

Not named ``pages/``: Streamlit treats a ``pages/`` folder next to the entrypoint as a legacy
multipage app, and then runs a page file directly, without the entrypoint (no logging setup, no
sidebar), whenever a session opens on a non-default page (always so under AppTest).
"""
