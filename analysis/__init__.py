"""Sentiment and stance analysis of public responses on social media.

Load exports of collection tools into one posts table (:func:`load_posts`), label replies as
support / criticism / other toward their target, estimate how the shares move over time with honest
intervals, and reproduce a study's figures with one command (``python -m analysis reproduce``).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_posts"]


def __getattr__(name: str):
    # Import on first use so that ``python -m analysis --help`` stays fast.
    if name == "load_posts":
        from analysis.loaders import load_posts

        return load_posts
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
