#!/usr/bin/env bash
# A streaming replica (hot standby) of the local PostgreSQL on 127.0.0.1:${REPLICA_PORT:-5439}, for the
# analytics-on-a-replica tests (.ci/run). Idempotent: a running standby is left as it is.
# Prints the REPLICA_DATABASE_URL host part on success. Needs root (it runs the standby as postgres).
set -euo pipefail
PORT=${REPLICA_PORT:-5439}
DIR=${REPLICA_DIR:-/var/tmp/jawla-replica}
PGV=$(ls /usr/lib/postgresql | sort -V | tail -1)
BIN=/usr/lib/postgresql/$PGV/bin
HBA=/etc/postgresql/$PGV/main/pg_hba.conf

if pg_isready -h 127.0.0.1 -p "$PORT" -q; then
  in_recovery=$(psql -h 127.0.0.1 -p "$PORT" -U postgres -Atc "select pg_is_in_recovery()" 2>/dev/null || true)
  if [ "$in_recovery" = "t" ]; then echo "standby already running on 127.0.0.1:$PORT"; exit 0; fi
  echo "port $PORT answers but is not a standby; set REPLICA_PORT" >&2; exit 1
fi

# The primary must accept replication connections from 127.0.0.1 (trust, as the rest of this machine).
if ! grep -Eq '^host +replication +all +127\.0\.0\.1/32 +trust' "$HBA"; then
  echo "host replication all 127.0.0.1/32 trust" >> "$HBA"
  psql -h 127.0.0.1 -U postgres -qAtc "select pg_reload_conf()" >/dev/null
fi

rm -rf "$DIR"; mkdir -p "$DIR"; chown postgres "$DIR"; chmod 700 "$DIR"
su postgres -c "$BIN/pg_basebackup -h 127.0.0.1 -U postgres -D $DIR -R -X stream -c fast"
# Debian keeps postgresql.conf outside the data folder: an empty one plus -o options suffice.
touch "$DIR/postgresql.conf"; cp "$HBA" "$DIR/pg_hba.conf"; chown postgres "$DIR"/*.conf
su postgres -c "$BIN/pg_ctl -D $DIR -o '-p $PORT -k /tmp -c hot_standby=on -c max_standby_streaming_delay=5s' -l $DIR/log -w start" >/dev/null
for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -p "$PORT" -q && break; sleep 0.2; done
[ "$(psql -h 127.0.0.1 -p "$PORT" -U postgres -Atc 'select pg_is_in_recovery()')" = "t" ]
echo "standby running on 127.0.0.1:$PORT (data in $DIR; stop: su postgres -c '$BIN/pg_ctl -D $DIR stop')"
