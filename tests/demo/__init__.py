"""Tests of the demo app (``streamlit_extension/app.py``) through Streamlit's AppTest."""
