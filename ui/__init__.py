"""Streamlit glue shared by the pages: cached library and store, sidebar. No rules, SQL or prompts here."""
