"""The UK shortcut gives exactly what phonenumbers gives, on generated numbers of every shape it takes."""

from __future__ import annotations

import random

import phonenumbers

from clientdock.pipeline.uk_phones import uk_e164


def by_phonenumbers(raw: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def written(rng: random.Random, national: str) -> str:
    """Ten national digits written as people do: 0 or +44, grouped with separators, maybe parentheses."""
    cuts = sorted(rng.sample(range(1, 10), rng.randint(0, 3)))
    groups = [national[a:b] for a, b in zip([0, *cuts], [*cuts, 10], strict=True)]
    joined = rng.choice([" ", "-", ".", "", "  ", " - "]).join(groups)
    rest = " ".join(groups[1:])
    shapes = [f"0{joined}", f"+44 {joined}", f"+44{joined}", f"(0{groups[0]}) {rest}", f"+44 ({groups[0]}) {rest}"]
    return rng.choice([*shapes, f"0{joined}.", f"(0{joined})"])


def test_the_shortcut_agrees_with_phonenumbers() -> None:
    rng = random.Random(15)
    taken = 0
    for _ in range(100_000):
        national = str(rng.randint(1, 9)) + "".join(rng.choices("0123456789", k=9))
        raw = written(rng, national)
        fast = uk_e164(raw, "GB")
        if fast is not None:
            taken += 1
            assert fast == by_phonenumbers(raw), raw
    assert taken > 90_000


def test_other_shapes_are_left_to_phonenumbers() -> None:
    for raw in [
        "+44 (0)20 7946 0000", "020 7946 0000 ext 12", "0800 123 456", "01946 12345", "+31 6 12345678", "0044 20 7946 0000",
        "020 7946 00000", "0020 7946 0000", "call office", "٠٢٠ ٧٩٤٦ ٠٠٠٠", "＋44 20 7946 0000", "+4420 7946 000", "",
    ]:  # fmt: skip
        assert uk_e164(raw, "GB") is None, raw
    assert uk_e164("020 7946 0000", "NL") is None
    assert uk_e164("020 7946 0000", "GB") == "+442079460000"
