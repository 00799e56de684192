#!/usr/bin/env bash
# Makes sure the services the test suite talks to answer on their default loopback ports:
# PostgreSQL 5432, Redis 6379, RabbitMQ 5672. A service that is installed but stopped is
# started; one that is missing fails the run with a message saying what to install.
set -uo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name port seconds
  local name=$1 port=$2 deadline=$((SECONDS + $3))
  until listening "$port"; do
    if ((SECONDS >= deadline)); then
      echo "error: $name did not start listening on 127.0.0.1:$port" >&2
      return 1
    fi
    sleep 1
  done
}

start_postgres() {
  command -v pg_ctlcluster >/dev/null || return 1
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$version" ] || return 1
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
}

start_redis() {
  command -v redis-server >/dev/null || return 1
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

start_rabbitmq() {
  command -v rabbitmq-server >/dev/null || return 1
  rabbitmq-server -detached
}

ensure() { # name port starter seconds package
  local name=$1 port=$2 starter=$3 seconds=$4 package=$5
  listening "$port" && return 0
  echo "$name is not answering on 127.0.0.1:$port; starting it" >&2
  if ! $starter >/dev/null 2>&1; then
    echo "error: $name is not installed or would not start; install the Debian package $package" >&2
    return 1
  fi
  wait_for "$name" "$port" "$seconds"
}

status=0
ensure PostgreSQL 5432 start_postgres 30 postgresql-15 || status=1
ensure Redis 6379 start_redis 15 redis-server || status=1
ensure RabbitMQ 5672 start_rabbitmq 90 rabbitmq-server || status=1
if ((status == 0)); then
  echo "services ready: PostgreSQL :5432, Redis :6379, RabbitMQ :5672"
fi
exit $status
