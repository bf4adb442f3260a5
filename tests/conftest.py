"""Shared test fixtures. Tests never touch the network and never the user's cache.

* every test gets a private cache folder (``POTASH_IMPACT_CACHE``) and offline mode off
  unless it asks for it;
* ``yfinance.download`` is replaced by a function that fails the test, unless the test
  installs its own stub (``yf_stub``);
* outbound socket connections other than loopback/unix fail the test.
"""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest

_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1") or "/" in host):
        return _real_connect(self, address)
    if isinstance(address, (str, bytes)):  # unix socket path
        return _real_connect(self, address)
    raise AssertionError(f"test tried to reach the network: {address!r}")


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory, monkeypatch):
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("POTASH_IMPACT_CACHE", str(cache))
    monkeypatch.delenv("POTASH_IMPACT_DATA", raising=False)
    monkeypatch.delenv("POTASH_IMPACT_OFFLINE", raising=False)  # tests opt in to offline explicitly
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    try:
        import yfinance

        def _no_network(*a, **k):
            raise AssertionError("yfinance.download called without a stub: tests must not use the network")

        monkeypatch.setattr(yfinance, "download", _no_network)
    except ImportError:  # pragma: no cover
        pass
    yield cache


def synthetic_yf_frame(tickers, start="2025-12-01", periods=10, seed=0, empty=()):
    """A SYNTHETIC frame in yfinance 1.x's true ``download`` shape.

    ``yf.download([...], auto_adjust=False, actions=True)`` returns MultiIndex columns
    with levels ``('Price', 'Ticker')``; Price is one of Adj Close, Close, Dividends,
    High, Low, Open, Stock Splits, Volume (sorted), and the index is a DatetimeIndex
    named ``Date``. Failed tickers come back as all-NaN columns. Values are random.
    """
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range(start, periods=periods, name="Date")
    fields = ["Adj Close", "Close", "Dividends", "High", "Low", "Open", "Stock Splits", "Volume"]
    data = {}
    for t in tickers:
        close = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, periods)))
        open_ = close * (1 + rng.normal(0, 0.003, periods))
        high = np.maximum(open_, close) * 1.01
        low = np.minimum(open_, close) * 0.99
        cols = {
            "Adj Close": close * 0.98,
            "Close": close,
            "Dividends": np.zeros(periods),
            "High": high,
            "Low": low,
            "Open": open_,
            "Stock Splits": np.zeros(periods),
            "Volume": rng.integers(1e5, 1e6, periods).astype(float),
        }
        for f in fields:
            data[(f, t)] = np.full(periods, np.nan) if t in empty else cols[f]
    df = pd.DataFrame(data, index=idx)
    df.columns = pd.MultiIndex.from_tuples(df.columns, names=["Price", "Ticker"])
    return df.sort_index(axis=1, level=0, sort_remaining=False)


@pytest.fixture
def yf_stub(monkeypatch):
    """Install a stub for ``yfinance.download``; returns a list recording each call's kwargs."""
    import yfinance

    calls = []

    def install(frame_or_fn):
        def fake(tickers, **kwargs):
            calls.append({"tickers": tickers, **kwargs})
            if callable(frame_or_fn):
                return frame_or_fn(tickers, **kwargs)
            return frame_or_fn

        monkeypatch.setattr(yfinance, "download", fake)
        return calls

    return install
