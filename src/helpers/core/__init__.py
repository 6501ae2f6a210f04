"""Foundations every stage uses: DREAM calendar, code dictionary, processed store, atomic writes, paths, progress."""
