# Memory of `streamctl serve` under connection and request pressure (issue 14 item 5): RSS per idle
# connection (1000 of them), RSS with 8 connections each holding a half-sent 90 MiB request, and RSS after
# they went away. Usage: python3 bench/serve_memory.py build/streamctl
import socket, struct, subprocess, sys, time, os, tempfile
S = sys.argv[1]
d = tempfile.mkdtemp()
p = subprocess.Popen([S, "--data-dir", d + "/data", "serve", "--listen", "127.0.0.1:0", "--port-file", d + "/port", "--log-level", "warn", "--max-connections", "2000"], stderr=subprocess.DEVNULL)
for _ in range(100):
    if os.path.exists(d + "/port") and open(d + "/port").read().strip(): break
    time.sleep(0.05)
port = int(open(d + "/port").read())
def rss():
    for l in open("/proc/%d/status" % p.pid):
        if l.startswith("VmRSS"): return int(l.split()[1])
def apiversions():
    client = b"probe"
    hdr = struct.pack(">hhih", 18, 0, 1, len(client)) + client
    return struct.pack(">i", len(hdr)) + hdr
time.sleep(0.3)
base = rss()
conns = []
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(apiversions()); conns.append(s)
for s in conns:
    n = struct.unpack(">i", s.recv(4))[0]
    while n > 0: n -= len(s.recv(n))
time.sleep(0.5)
idle = rss()
print("idle connections: %.1f kB each (RSS %d -> %d kB)" % ((idle - base) / 1000.0, base, idle))
for s in conns: s.close()
time.sleep(0.5)
big = []
size = 90 << 20
for i in range(8):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(apiversions())
    n = struct.unpack(">i", s.recv(4))[0]
    while n > 0: n -= len(s.recv(n))
    body = struct.pack(">hhih", 0, 7, 1, 5) + b"probe" + b"\0" * (size // 2)
    s.setblocking(False)
    data = struct.pack(">i", size) + body[: size // 2]
    sent = 0
    t0 = time.time()
    while sent < len(data) and time.time() - t0 < 3:
        try: sent += s.send(data[sent:])
        except BlockingIOError: time.sleep(0.01)
    big.append(s)
time.sleep(2)
print("8 half-sent 90 MiB requests: RSS %d MB" % (rss() // 1024))
for s in big: s.close()
for t in range(4):
    time.sleep(6)
    print("%d s after they went away: RSS %d MB" % (6 * (t + 1), rss() // 1024))
p.terminate(); p.wait()
