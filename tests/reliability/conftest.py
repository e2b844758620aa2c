import sys
from pathlib import Path

import pytest

# bench/ holds the fuzzer and the bad-input matrix as runnable scripts; the tests reuse their modules.
BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))


@pytest.fixture(scope="session")
def fuzz_seeds() -> dict[str, bytes]:
    from fuzz_corpus import make_seeds

    return make_seeds(real_sample=False)


def pytest_collection_modifyitems(config, items):
    """`slow` tests here run only when asked for (`-m slow`), as the marker's description in pyproject says."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    here = Path(__file__).parent
    for item in items:
        if "slow" in item.keywords and here in Path(item.fspath).parents:
            item.add_marker(skip)
