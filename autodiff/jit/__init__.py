"""The compiler: `ad.compile` traces a step once (tracing), writes it out as Python over
numpy arrays (codegen), and replays it while its guards hold (guards); compiled.py is
the entry. The engine reports to it only through `autodiff.events`."""
from .compiled import CacheInfo, Compiled, compile

__all__ = ["CacheInfo", "Compiled", "compile"]
