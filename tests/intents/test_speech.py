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
        (wav(width=3), "Send 16-bit PCM or 8-bit µ-law WAV audio."),
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


def mulaw_wav(samples: bytes, *, rate: int = 8000, tag: int = 7) -> bytes:
    """A G.711 WAV file (format tag 7 µ-law, 6 A-law) of 8-bit ``samples``."""
    fmt = struct.pack("<HHIIHH", tag, 1, rate, rate, 1, 8) + struct.pack("<H", 0)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"fact" + struct.pack("<II", 4, len(samples))
    body += b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_pcm16k_reads_mulaw_telephone_audio_at_16_khz() -> None:
    # 0xFF is µ-law silence, 0x80 its loudest positive value
    audio = pcm16k(mulaw_wav(bytes([0xFF, 0x80] * 400)))

    samples = struct.unpack(f"<{len(audio) // 2}h", audio)
    assert len(samples) == 1600  # 800 frames at 8 kHz: 1,600 at 16 kHz
    assert max(samples) > 30000 and min(samples) == 0


def test_pcm16k_reads_alaw_and_refuses_g711_that_is_not_8_bit() -> None:
    assert len(pcm16k(mulaw_wav(bytes([0xD5] * 800), tag=6))) == 3200
    broken = bytearray(mulaw_wav(bytes(800)))
    struct.pack_into("<H", broken, 34, 16)  # bits per sample
    with pytest.raises(SpeechError, match=r"16-bit G\.711 audio; µ-law and A-law are 8-bit"):
        pcm16k(bytes(broken))


def test_pcm16k_widens_telephone_band_audio_by_folding() -> None:
    """8 kHz speech has nothing above 4 kHz; folded, the upper band mirrors the lower."""
    tone = [int(8000 * ((k * 1000 / 8000 * 2) % 2 - 1)) for k in range(8000)]  # 1 kHz saw
    audio = pcm16k(wav(frames=struct.pack(f"<{len(tone)}h", *tone)))
    samples = struct.unpack(f"<{len(audio) // 2}h", audio)
    import numpy as np

    spectrum = np.abs(np.fft.rfft(np.array(samples, dtype=float))) ** 2
    upper = spectrum[len(spectrum) // 2 :].sum() / spectrum.sum()
    assert len(samples) == 16000 and upper > 0.2
