#!/usr/bin/env bash
# The tests use the real Redis at 127.0.0.1:6379; start it where it is not running.
set -euo pipefail
if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  exit 0
fi
mkdir -p /tmp/aayulink-redis
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
  --dir /tmp/aayulink-redis --logfile /tmp/aayulink-redis/redis.log
for _ in $(seq 1 50); do
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "could not start redis-server on 127.0.0.1:6379" >&2
exit 1
