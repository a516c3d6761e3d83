"""Hostile photos through `catnet predict`: one line, exit 2, nothing printed; unusual but honest ones read by their meaning."""

from __future__ import annotations

import io
import os
import struct
import zlib

import numpy as np
import pytest
from hostile import assert_refused, catnet, untouched
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from catcore.modelfile import ModelFile, save_model
from numpy_impl.init import initialize


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("images") / "m.npz"
    return save_model(path, ModelFile(params=initialize((48, 5, 1), "he", 3), init="he", seed=3, flatten="course",
                                      image_shape=(4, 4, 3)))


def encoded(array: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **options)
    return buffer.getvalue()


PHOTO = np.random.RandomState(0).randint(0, 256, (300, 300, 3)).astype(np.uint8)  # large enough for several IDAT chunks
PNG, JPEG = encoded(PHOTO, "PNG"), encoded(PHOTO, "JPEG", quality=90)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def broken_chunk() -> bytes:
    # the second IDAT's type overwritten: Pillow raises SyntaxError("broken PNG file") while decoding
    second = PNG.index(b"IDAT", PNG.index(b"IDAT") + 4)
    return PNG[:second] + b"\x01\x02\x03\x04" + PNG[second + 4:]


def giant_header() -> bytes:
    # a PNG that claims to be 100000 x 100000 pixels: Pillow's decompression-bomb guard
    return (PNG[:8] + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 100)) + png_chunk(b"IEND", b""))


BAD = {
    "png-broken-chunk": broken_chunk(),
    "png-cut-short": PNG[: len(PNG) // 2],
    "png-signature-only": PNG[:8],
    "jpeg-cut-short": JPEG[:200],
    "jpeg-no-end": JPEG[:-2] + b"\0" * 10 + JPEG[600:1200],
    "png-giant": giant_header(),
    "empty": b"",
    "text": b"a photo of my cat",
    "gif": encoded(PHOTO, "GIF"),
    "bmp": encoded(PHOTO, "BMP"),
    "tiff": encoded(PHOTO, "TIFF"),
    "webp": encoded(PHOTO, "WEBP"),
    "ico": encoded(PHOTO[:64, :64], "ICO"),
}


@pytest.mark.parametrize("content", BAD.values(), ids=BAD.keys())
def test_a_file_that_is_no_readable_jpeg_or_png(model, tmp_path, content):
    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    good.write_bytes(PNG)
    bad.write_bytes(content)
    with untouched(tmp_path):
        outcome = catnet("predict", "--model", model, good, bad)
    assert_refused(outcome, str(bad), code=2)
    assert outcome.stdout == ""  # the good photo before it is not reported either


def test_other_formats_are_refused_by_name(model, tmp_path):
    (tmp_path / "cat.gif").write_bytes(BAD["gif"])
    assert_refused(catnet("predict", "--model", model, tmp_path / "cat.gif"), "JPEG or PNG", code=2)


def test_paths_that_hold_no_photo(model, tmp_path):
    os.mkfifo(tmp_path / "fifo.png")
    (tmp_path / "folder.png").mkdir()
    for path, fragment in ((tmp_path / "none.png", "no such image file"), (tmp_path / "folder.png", "a folder"),
                           (tmp_path / "fifo.png", "not a regular file"), ("/dev/zero", "not a regular file")):
        assert_refused(catnet("predict", "--model", model, path), fragment, code=2)


# --- read by their meaning


def probability(model, path) -> str:
    outcome = catnet("predict", "--model", model, path)
    assert outcome.code == 0, outcome.stderr
    return outcome.stdout.split("P(cat) = ")[1].split()[0]


def test_sixteen_bit_greyscale_reads_as_the_same_picture_as_eight_bit(model, tmp_path):
    grey = np.random.RandomState(1).randint(0, 256, (16, 16)).astype(np.uint8)
    Image.fromarray(grey).save(tmp_path / "grey8.png")
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "grey16.png")  # 255 * 257 = 65535
    Image.fromarray(np.full((16, 16), 255, np.uint8)).save(tmp_path / "white.png")
    assert Image.open(tmp_path / "grey16.png").mode.startswith("I")
    assert probability(model, tmp_path / "grey16.png") == probability(model, tmp_path / "grey8.png")
    assert probability(model, tmp_path / "grey16.png") != probability(model, tmp_path / "white.png")


def test_transparent_pixels_are_seen_on_white(model, tmp_path):
    rgba = np.zeros((16, 16, 4), np.uint8)  # black and fully transparent
    Image.fromarray(rgba).save(tmp_path / "clear.png")
    Image.fromarray(np.full((16, 16, 3), 255, np.uint8)).save(tmp_path / "white.png")
    assert probability(model, tmp_path / "clear.png") == probability(model, tmp_path / "white.png")


@pytest.mark.parametrize("mode", ["L", "P", "1", "CMYK", "LA", "RGBA"])
def test_every_mode_a_jpeg_or_png_comes_in_reads_as_its_rgb_picture(model, tmp_path, mode):
    path = tmp_path / ("photo.jpg" if mode == "CMYK" else "photo.png")
    Image.fromarray(PHOTO[:32, :32]).convert(mode).save(path)  # opaque: alpha 255 throughout
    with Image.open(path) as image:
        image.convert("RGB").save(tmp_path / "rgb.png")
    assert probability(model, path) == probability(model, tmp_path / "rgb.png")


# --- any bytes at all


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.sampled_from([PNG, JPEG]), data=st.data())
def test_any_damage_to_a_photo_is_one_line_or_a_prediction(model, tmp_path, base, data):
    damaged = bytearray(base)
    for _ in range(data.draw(st.integers(1, 6))):
        damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        damaged = damaged[: data.draw(st.integers(0, len(damaged)))]
    path = tmp_path / "damaged.img"
    path.write_bytes(bytes(damaged))
    outcome = catnet("predict", "--model", model, path)
    if outcome.code == 0:
        assert outcome.stderr == "" and "P(cat)" in outcome.stdout
    else:
        assert_refused(outcome, code=2)
        assert outcome.stdout == ""
