import pytest

from processors.profile.masking import mask


@pytest.mark.parametrize(("kind", "value", "shown"), [
    ("PHONE", "+8613800138000", "+86*******8000"),
    ("EMAIL", "ann.lee@example.org", "a***@example.org"),
    ("NATIONAL_ID", "nid1:" + "a" * 28 + "beef", "nid1:…beef"),
    ("NATIONAL_ID", "110105194912310021", "[national id]"),
    ("ACCOUNT", "ACC-123456", "ACC-****3456"),
    ("CARD", "123", "****"),
    ("DEVICE", "6f9619ff-8b86", "6f96…"),
])
def test_masks(kind: str, value: str, shown: str) -> None:
    assert mask(kind, value) == shown
