#!/usr/bin/env python3
"""Regenerates samples/app.log and samples/nginx-access.log.

Both logs are synthetic and seeded, so every run writes the same bytes. IP addresses come from the
documentation ranges (RFC 5737); user ids and request ids are random numbers. Usage: samples/generate-logs.py
"""
import datetime
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def app_log():
    """3,600 lines from 7 services, with a burst of payment errors around 09:37."""
    rng = random.Random(20241125)
    t = datetime.datetime(2024, 11, 25, 9, 0, 0, 112000, tzinfo=datetime.timezone.utc)
    services = {
        "api-gateway": 0.30, "checkout": 0.18, "payments": 0.12, "inventory": 0.14,
        "auth": 0.12, "search": 0.10, "notifier": 0.04,
    }
    paths = {
        "api-gateway": ["/v1/orders", "/v1/orders/{id}", "/v1/cart", "/v1/products/{id}", "/v1/search", "/healthz", "/v1/login"],
        "checkout": ["/internal/checkout/{id}", "/internal/cart/{id}/price"],
        "payments": ["/internal/charge", "/internal/refund/{id}"],
        "inventory": ["/internal/stock/{id}", "/internal/reserve"],
        "auth": ["/internal/token", "/internal/session/{id}"],
        "search": ["/internal/query"],
        "notifier": ["/internal/email", "/internal/sms"],
    }
    hosts = ["web-01", "web-02", "web-03", "app-01", "app-02", "worker-01"]
    users = [rng.randint(1000, 99999) for _ in range(400)]
    queries = ["running shoes", "usb-c cable", "espresso machine", "rain jacket", "kids bike", "noise cancelling headphones", "4k monitor", "desk lamp"]
    warn_msgs = {
        "api-gateway": ["slow upstream response", "rate limit close to quota", "client sent deprecated header X-Api-Version"],
        "checkout": ["price changed during checkout", "cart item out of stock, removed", "coupon expired"],
        "payments": ["card issuer slow", "3ds challenge timed out, retrying", "idempotency key reused"],
        "inventory": ["stock below reorder threshold", "reservation lock contended"],
        "auth": ["failed login attempt", "token near expiry refreshed", "password reset requested"],
        "search": ["query took longer than budget", "index shard lagging"],
        "notifier": ["smtp relay deferred message", "sms provider throttling"],
    }
    error_msgs = {
        "api-gateway": ["upstream connect error: connection refused", "request timed out after 5000 ms"],
        "checkout": ["failed to reserve inventory: deadline exceeded", "order persistence failed: unique constraint violation"],
        "payments": ["charge declined: insufficient_funds", "payment provider returned 502", "charge declined: do_not_honor"],
        "inventory": ["postgres: could not serialize access due to concurrent update"],
        "auth": ["jwks fetch failed: tls handshake timeout", "invalid token signature"],
        "search": ["elasticsearch: circuit_breaking_exception [parent] Data too large"],
        "notifier": ["smtp: 451 4.7.1 try again later"],
    }
    debug_msgs = ["cache hit", "cache miss, loading from db", "feature flag new-checkout-flow=on", "retry budget remaining=3", "db pool in_use=7 idle=13"]
    def rid():
        return "%016x" % rng.getrandbits(64)
    lines = []
    # Incident window: payments errors spike for a few minutes.
    incident_start = t + datetime.timedelta(minutes=37)
    incident_end = incident_start + datetime.timedelta(minutes=4)
    lines.append((t, "INFO", "api-gateway", "web-01", None, 'msg="starting" version=2.14.3 listen=0.0.0.0:8080 workers=8'))
    while len(lines) < 3600:
        t += datetime.timedelta(milliseconds=int(rng.expovariate(1 / 850)) + 1)
        svc = rng.choices(list(services), weights=list(services.values()))[0]
        host = rng.choice(hosts)
        in_incident = incident_start <= t <= incident_end
        r = rng.random()
        if in_incident and svc in ("payments", "checkout") and r < 0.55:
            level = "ERROR"
        elif r < 0.012:
            level = "ERROR"
        elif r < 0.07:
            level = "WARN"
        elif r < 0.16:
            level = "DEBUG"
        else:
            level = "INFO"
        req = rid()
        if level == "INFO":
            p = rng.choice(paths[svc]).replace("{id}", str(rng.randint(1, 99999)))
            if any(k in p for k in ("charge", "refund", "reserve", "token", "email", "sms", "login", "/internal/checkout/")):
                method = "POST"
            elif any(k in p for k in ("search", "products", "stock", "healthz", "session", "price", "query")):
                method = "GET"
            else:
                method = rng.choice(["GET", "GET", "POST", "PUT"])
            status = rng.choices([200, 201, 204, 304, 400, 404], weights=[70, 8, 6, 5, 6, 5])[0]
            dur = max(1, int(rng.lognormvariate(3.2, 0.8)))
            extra = ""
            if svc == "search":
                extra = ' q="%s" hits=%d' % (rng.choice(queries), rng.randint(0, 480))
            if svc in ("checkout", "payments"):
                extra = " user_id=%d amount_cents=%d currency=EUR" % (rng.choice(users), rng.randint(199, 45999))
            body = 'msg="request completed" method=%s path=%s status=%d duration_ms=%d%s' % (method, p, status, dur, extra)
        elif level == "DEBUG":
            body = 'msg="%s" duration_ms=%d' % (rng.choice(debug_msgs), rng.randint(0, 12))
        elif level == "WARN":
            m = rng.choice(warn_msgs[svc])
            body = 'msg="%s" user_id=%d duration_ms=%d' % (m, rng.choice(users), int(rng.lognormvariate(6.5, 0.5)))
        else:
            m = rng.choice(error_msgs[svc]) if not (in_incident and svc == "payments") else "payment provider returned 502"
            body = 'msg="%s" attempt=%d' % (m, rng.randint(1, 3))
        lines.append((t, level, svc, host, req, body))
    with open(os.path.join(HERE, "app.log"), "w") as f:
        for (ts, level, svc, host, req, body) in lines:
            stamp = ts.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ts.microsecond // 1000)
            reqs = (" request_id=" + req) if req else ""
            f.write("%s %-5s %s host=%s%s %s\n" % (stamp, level, svc, host, reqs, body))


def nginx_access_log():
    """900 lines of nginx's combined format plus the response time (rt=)."""
    rng = random.Random(8080)
    t = datetime.datetime(2024, 11, 25, 9, 0, 2, tzinfo=datetime.timezone.utc)
    ips = ["203.0.113.%d" % rng.randint(2, 254) for _ in range(40)] + ["198.51.100.%d" % rng.randint(2, 254) for _ in range(25)] + ["192.0.2.%d" % rng.randint(2, 254) for _ in range(10)]
    agents = [
        "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "curl/7.88.1",
        "Go-http-client/1.1",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "kube-probe/1.29",
    ]
    pages = [("/", 200, 14210), ("/products/%d", 200, 38211), ("/cart", 200, 9120), ("/checkout", 200, 11877),
             ("/static/app.%s.js", 200, 241883), ("/static/styles.%s.css", 200, 48231), ("/favicon.ico", 200, 15086),
             ("/api/v1/search?q=%s", 200, 5210), ("/api/v1/orders", 201, 412), ("/login", 302, 0),
             ("/healthz", 200, 2), ("/wp-login.php", 404, 153), ("/.env", 404, 153), ("/api/v1/cart/items", 204, 0)]
    refs = ["-", "https://shop.example.com/", "https://shop.example.com/cart", "https://www.google.com/"]
    out = []
    for i in range(900):
        t += datetime.timedelta(milliseconds=int(rng.expovariate(1 / 1300)) + 1)
        path, status, size = rng.choices(pages, weights=[10, 22, 6, 3, 8, 8, 2, 9, 3, 3, 12, 1, 1, 4])[0]
        if "%d" in path: path = path % rng.randint(100, 9999)
        if "%s" in path:
            path = path % (rng.choice(["shoes", "usb-c+cable", "espresso", "jacket", "monitor"]) if "search" in path else "3f9c2a1b")
        method = "POST" if path in ("/api/v1/orders", "/login", "/api/v1/cart/items") else "GET"
        agent = rng.choice(agents) if path != "/healthz" else "kube-probe/1.29"
        if path in ("/wp-login.php", "/.env"): agent = "Mozilla/5.0 zgrab/0.x"
        r = rng.random()
        if r < 0.015 and status < 400: status, size = 502, 157
        elif r < 0.03 and status < 400 and method == "GET": status, size = 304, 0
        elif r < 0.04 and status < 400: status, size = 499, 0
        size = int(size * rng.uniform(0.9, 1.1)) if size > 10 else size
        rt = rng.lognormvariate(-3.3, 0.9) if status != 502 else rng.uniform(5.0, 5.01)
        ip = rng.choice(ips)
        stamp = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
        out.append('%s - - [%s] "%s %s HTTP/1.1" %d %d "%s" "%s" rt=%.3f\n' % (ip, stamp, method, path, status, size, rng.choice(refs), agent, rt))
    open(os.path.join(HERE, "nginx-access.log"), "w").writelines(out)


if __name__ == "__main__":
    app_log()
    nginx_access_log()
