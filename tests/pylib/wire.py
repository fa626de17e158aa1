# SPDX-License-Identifier: LGPL-2.1-or-later
"""telemd's record socket as a client sees it, byte by byte: header blocks,
frames in both layouts, and a connection's answer (the greeting, then one
status byte). For tests that must send what the library never would."""
import socket
import struct
import time

HEADER_NAMES = ["record_format_version", "classification", "severity", "machine_id", "creation_timestamp",
                "arch", "host_type", "build", "kernel_version", "payload_format_version", "system_name",
                "board_name", "cpu_model", "bios_version", "event_id"]
TM_FRAME_MAX = 4 + (4 + 4096) + 4 + 4096 + 8192 + 1  # src/shared/frame.h, with PATH_MAX 4096


def header_block(classification="org.test/raw/record", **override):
    values = dict(record_format_version="4", classification=classification, severity="2",
                  machine_id="FFFFFFFF", creation_timestamp=str(int(time.time())), arch="x86_64",
                  host_type="a|b|c", build="12", kernel_version="6.1.0", payload_format_version="1",
                  system_name="debian", board_name="b|v", cpu_model="cpu", bios_version="1.0",
                  event_id="0123456789abcdef0123456789abcdef")
    values.update(override)
    return "".join(f"{n}: {values[n]}\n" for n in HEADER_NAMES).encode("latin-1")


def frame(headers, payload):
    """An era frame: [u32 H+P][u32 H][headers][payload][NUL], native endian."""
    return struct.pack("=II", len(headers) + len(payload), len(headers)) + headers + payload + b"\0"


def frame_2019(headers, payload):
    """A 2019+ frame, whose first word is the whole frame's length; it ends
    where the client closes its side."""
    total = 8 + len(headers) + len(payload) + 1
    return struct.pack("=II", total, len(headers)) + headers + payload + b"\0"


def send_raw(path, data, shut=True, timeout=30):
    """Send data on one connection and return telemd's answer bytes."""
    with connect(path, timeout) as s:
        try:
            s.sendall(data)
            if shut:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return read_answer(s, timeout)


def connect(path, timeout=30):
    """A client connection to telemd's record socket at path."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def read_answer(s, timeout=30):
    """The bytes telemd wrote back until it closed (greeting + status), or
    what came before the timeout."""
    s.settimeout(timeout)
    got = b""
    try:
        while len(got) < 2:
            chunk = s.recv(2 - len(got))
            if not chunk:
                break
            got += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return got
