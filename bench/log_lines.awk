# Writes n log-like lines of ~100 bytes (99 characters + newline), varied but reproducible (seed 42), for the
# benchmarks that feed the same input to streamctl and to a baseline: awk -v n=1000000 -f bench/log_lines.awk
BEGIN {
  split("GET POST PUT DELETE", verb, " ");
  split("/api/v1/orders /api/v1/users /health /api/v2/search /static/app.js", path, " ");
  srand(42);
  for (i = 0; i < n; i++) {
    line = sprintf("2024-05-01T12:%02d:%02d.%03dZ INFO req=%08d %s %s status=%d latency_ms=%d user=u%06d",
                   int(i / 60000) % 60, int(i / 1000) % 60, i % 1000, i, verb[i % 4 + 1], path[i % 5 + 1],
                   (i % 17 == 0) ? 500 : 200, int(rand() * 1000), int(rand() * 1000000));
    while (length(line) < 99) line = line " x";
    print substr(line, 1, 99);
  }
}
