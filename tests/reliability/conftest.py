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
