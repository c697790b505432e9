"""ML system design interview simulator: the core (no Streamlit). See README.md."""

__version__ = "0.2.0"
