import pytest

from harmonie.harmonisation.population import population_cache_clear


@pytest.fixture(autouse=True)
def _fresh_population_cache():
    """Test databases reuse ids after a rollback: never serve another test's arrays."""
    population_cache_clear()
    yield
    population_cache_clear()
