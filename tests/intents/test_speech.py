"""WAV headers are checked before a sample is touched: each bad one is a SpeechError
with a message saying what is wrong, never another exception."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from intents.speech import SpeechError, pcm16k


def wav(
    *, rate: int = 8000, channels: int = 1, width: int = 2, frames: bytes = bytes(1600)
) -> bytes:
    """A WAV file, its header then patched to say ``rate``, ``channels`` and ``width``."""
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(frames)
    data = bytearray(out.getvalue())
    # The fmt chunk: channels at 22, rate at 24, byte rate at 28, block align at 32, bits at 34.
    struct.pack_into("<HI", data, 22, channels, rate)
    byte_rate, block = rate * channels * width % 2**32, channels * width % 2**16
    struct.pack_into("<IHH", data, 28, byte_rate, block, width * 8)
    return bytes(data)


def with_data_size(data: bytes, size: int) -> bytes:
    """``data`` with its data chunk claiming ``size`` bytes."""
    patched = bytearray(data)
    struct.pack_into("<I", patched, 40, size)
    return bytes(patched)


@pytest.mark.parametrize(
    ("recording", "message"),
    [
        (wav(rate=0), "The WAV header gives a sample rate of 0 Hz; send 4,000 to 192,000 Hz."),
        (
            wav(rate=4_000_000_000),
            "The WAV header gives a sample rate of 4,000,000,000 Hz; send 4,000 to 192,000 Hz.",
        ),
        (
            wav(rate=3999),
            "The WAV header gives a sample rate of 3,999 Hz; send 4,000 to 192,000 Hz.",
        ),
        (wav(channels=9), "The WAV header gives 9 channels; send 1 to 8 (mono is best)."),
        (
            wav(channels=65535),
            "The WAV header gives 65535 channels; send 1 to 8 (mono is best).",
        ),
        (wav(width=3), "Send 16-bit PCM WAV audio."),
        (  # a streamed header: the frames end where the data does
            with_data_size(wav(channels=2, frames=bytes(1602)), 0x7FFFF000),
            "The WAV data ends inside a frame: 1,602 bytes are no whole number of 4-byte frames.",
        ),
        (wav(frames=b""), "The recording is empty."),
    ],
)
def test_pcm16k_refuses_a_header_out_of_bounds(recording: bytes, message: str) -> None:
    with pytest.raises(SpeechError) as refused:
        pcm16k(recording)

    assert str(refused.value) == message


@pytest.mark.parametrize(
    "recording",
    [
        wav(channels=0),  # the wave module's own "bad # of channels"
        wav()[:30],  # the fmt chunk cut short
        b"RIFF\x00\x00\x00\x00WAVEfmt \xff\xff\xff\x7f",  # a chunk longer than the file
        b"not a wav",
    ],
)
def test_pcm16k_refuses_what_is_no_wav_as_such(recording: bytes) -> None:
    with pytest.raises(SpeechError, match=r"^That is not a WAV recording I can read \(.+\)\.$"):
        pcm16k(recording)


def test_pcm16k_takes_a_streamed_header_that_promises_more_frames() -> None:
    # espeak-ng --stdout and other recorders writing to a pipe cannot fill the length in.
    streamed = with_data_size(wav(frames=bytes(1600)), 0x7FFFF000)

    assert len(pcm16k(streamed)) == 3200  # 800 frames at 8 kHz: 1,600 at 16 kHz
