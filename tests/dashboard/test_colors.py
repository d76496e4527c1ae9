import zlib

from apps.dashboard.colors import PALETTE, series_color


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_it_gives_a_provider_the_same_colour_every_time():
    assert series_color("groq") == series_color("groq") == series_color(" Groq ")
    assert series_color("groq") in PALETTE


def test_it_does_not_depend_on_the_process_hash_seed():
    # crc32 is fixed across processes; Python's hash() changes with PYTHONHASHSEED.
    assert series_color("openai") == PALETTE[zlib.crc32(b"openai") % len(PALETTE)]


def test_every_colour_has_3_to_1_contrast_on_white():
    for colour in PALETTE:
        assert (1.05) / (_luminance(colour) + 0.05) >= 3, colour


def test_the_palette_has_no_duplicates():
    assert len(set(PALETTE)) == len(PALETTE)
