"""Shared test settings: a Hypothesis profile that keeps the whole suite to a few minutes."""
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "30")), deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("default")
