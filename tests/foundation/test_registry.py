import pytest

from genvc.errors import FormatError, InputError
from genvc.utils.registry import LazyRegistry


def test_registry_builds_lazily_and_sets_the_declared_id():
    registry = LazyRegistry("thing", id_attribute="thing_id")
    registry.add("ns", "types:SimpleNamespace", id=7)
    registry.add("plain", "types:SimpleNamespace")
    assert registry.names() == ["ns", "plain"] and registry.name_for_id(7) == "ns" and registry.name_for_id(8) is None
    assert registry.build("ns", x=1).thing_id == 7 and not hasattr(registry.build("plain"), "thing_id")
    with pytest.raises(ValueError, match="id 7 is taken"):
        registry.add("other", "types:SimpleNamespace", id=7)
    with pytest.raises(ValueError, match="declares id 3"):  # a class's own id must agree with the registry
        registry.build("ns", thing_id=3)
    with pytest.raises(InputError, match="unknown thing 'nope'; choose one of: ns, plain"):
        registry.build("nope")


def test_method_and_codec_ids_come_from_their_registries():
    from genvc.intra import codec_by_id, get_codec
    from genvc.methods import get_method
    from genvc.methods.base import method_name_for_id

    assert [get_codec(n).codec_id for n in ("av1", "vvc", "avif")] == [1, 2, 3]
    assert codec_by_id(2).name == "vvc"
    with pytest.raises(FormatError):
        codec_by_id(9)
    assert get_method("interp").method_id == 1 and method_name_for_id(5) == "sketch"



@pytest.mark.parametrize("bad, word", [({"lvl": 1}, "lvl"), ({"level": 5}, "level"), ({"tune": "ssim"}, "tune"),
                                       ({"side_fraction": 1.5}, "side_fraction"), ({"generator": "yes"}, "generator")])
def test_method_options_are_typed_and_checked_when_the_encode_is_set_up(bad, word):
    from genvc.codec import EncodeConfig
    from genvc.methods.base import MethodOptions

    with pytest.raises(InputError, match=word):
        EncodeConfig(method="interp", method_options=bad)
    options = EncodeConfig(method_options={"level": 1, "text": "a cat"}).method_options
    assert options == MethodOptions(level=1, text="a cat") and options.get("side_bytes", 7) == 7
