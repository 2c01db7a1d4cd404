#!/usr/bin/python3
"""Sends one raw Kafka Produce v3 request holding one RecordBatch v2 built here, byte by byte, and prints the
partition's error code and base offset ("<error_code> <base_offset>"). Used by the e2e tests to send batches
no well-behaved client would: a compression flag over random bytes with a valid CRC (issue 14 item 2).
Also sends old message formats with Produce v2 (issue 18): a magic 1 message (legacy-good VALUE), one with a
bad CRC (legacy-corrupt), and a RecordBatch v2 in a Produce v2 request, which Kafka refuses (v2-on-old).
Usage: kafka_raw_produce.py HOST:PORT TOPIC PARTITION {good VALUE | poison CODEC_ID SEED | legacy-good VALUE |
                                                     legacy-corrupt | v2-on-old VALUE}
Writes the batch to stdout instead with --print-batch as the first argument (then HOST:PORT is ignored)."""
import random
import socket
import struct
import sys
import zlib


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def varint(n):
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        if z < 0x80:
            out.append(z)
            return bytes(out)
        out.append((z & 0x7F) | 0x80)
        z >>= 7


def batch(attributes, records_section, record_count, base_offset=0):
    after_crc = struct.pack(">hiqqqhii", attributes, record_count - 1, 1000, 1000, -1, -1, -1, record_count)
    after_crc += records_section
    body = struct.pack(">ib", -1, 2) + struct.pack(">I", crc32c(after_crc)) + after_crc
    return struct.pack(">qi", base_offset, len(body)) + body


def good_batch(value):
    v = value.encode()
    rec = b"\x00" + varint(0) + varint(0) + varint(-1) + varint(len(v)) + v + varint(0)
    return batch(0, varint(len(rec)) + rec, 1)


def poison_batch(codec, seed):
    rng = random.Random(seed)
    return batch(codec, bytes(rng.randrange(256) for _ in range(200)), 1)


def legacy_message(value, corrupt=False):
    """One magic 1 message: offset, size, CRC-32 (IEEE) over magic..end, magic, attributes, timestamp, key, value."""
    v = value.encode()
    after_crc = struct.pack(">bbqi", 1, 0, 1000, -1) + struct.pack(">i", len(v)) + v
    crc = zlib.crc32(after_crc) ^ (1 if corrupt else 0)
    body = struct.pack(">I", crc) + after_crc
    return struct.pack(">qi", 0, len(body)) + body


def produce(addr, topic, partition, records, version=3):
    t = topic.encode()
    body = struct.pack(">h", -1) if version >= 3 else b""  # transactional_id null (v3+)
    body += struct.pack(">hi", -1, 10000)  # acks=all, timeout
    body += struct.pack(">ih", 1, len(t)) + t + struct.pack(">ii", 1, partition)
    body += struct.pack(">i", len(records)) + records
    client = b"raw-probe"
    header = struct.pack(">hhih", 0, version, 7, len(client)) + client
    frame = header + body
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        resp = recv_exact(s, size)
    # correlation_id, [topics: name, [partitions: index, error_code, base_offset, log_append_time]], throttle
    pos = 4 + 4
    name_len = struct.unpack_from(">h", resp, pos)[0]
    pos += 2 + name_len + 4
    _, error_code, base_offset = struct.unpack_from(">ihq", resp, pos)
    return error_code, base_offset


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise SystemExit("connection closed by the server")
        data += chunk
    return data


def main(argv):
    if argv[1] == "--print-batch":
        kind, args = argv[2], argv[3:]
        b = good_batch(args[0]) if kind == "good" else poison_batch(int(args[0]), int(args[1]))
        sys.stdout.buffer.write(b)
        return
    addr, topic, partition, kind = argv[1], argv[2], int(argv[3]), argv[4]
    version = 3
    if kind == "good":
        b = good_batch(argv[5])
    elif kind == "poison":
        b = poison_batch(int(argv[5]), int(argv[6]))
    elif kind in ("legacy-good", "legacy-corrupt"):
        b, version = legacy_message(argv[5] if kind == "legacy-good" else "x", kind == "legacy-corrupt"), 2
    elif kind == "v2-on-old":
        b, version = good_batch(argv[5]), 2
    else:
        raise SystemExit("unknown kind " + kind)
    error_code, base_offset = produce(addr, topic, partition, b, version)
    print(error_code, base_offset)


if __name__ == "__main__":
    main(sys.argv)
