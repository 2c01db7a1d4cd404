#!/usr/bin/env python3
"""kafka-python round trip over a SASL listener, for serve_sasl.sh and serve_tls.sh.

Usage: kafka_python_sasl.py BOOTSTRAP PROTOCOL MECHANISM USER PASSWORD [CAFILE]
Produces m0..m4 to topic "kpy", consumes them back and prints "consumed [...]"; then tries a wrong password
and prints "wrong-password-refused <error>" (or "wrong-password-accepted").
"""
import sys

from kafka import KafkaConsumer, KafkaProducer

bootstrap, protocol, mechanism, user, password = sys.argv[1:6]
common = dict(bootstrap_servers=bootstrap, security_protocol=protocol, sasl_mechanism=mechanism,
              sasl_plain_username=user, sasl_plain_password=password)
if len(sys.argv) > 6:
    common["ssl_cafile"] = sys.argv[6]
p = KafkaProducer(**common)
for i in range(5):
    p.send("kpy", f"m{i}".encode()).get(timeout=20)
p.close()
c = KafkaConsumer("kpy", auto_offset_reset="earliest", consumer_timeout_ms=5000, **common)
print("consumed", sorted(m.value.decode() for m in c))
c.close()
try:
    KafkaProducer(**dict(common, sasl_plain_password=password + "-wrong")).send("kpy", b"bad").get(timeout=10)
    print("wrong-password-accepted")
except Exception as e:  # noqa: BLE001 - any failure to connect/authenticate is the expected outcome
    print("wrong-password-refused", type(e).__name__)
