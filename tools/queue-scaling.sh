#!/usr/bin/env bash
# The shared queue's scaling figure (README, "Many daemons, one queue"): documents per minute with
# 1, 2 and 3 worker daemons on one throw-away PostgreSQL cluster and the tiny fixture model, and
# the queue's own overhead per document (empty templates: local spool vs queue).
#
#   swift build -c release --product infill && tools/queue-scaling.sh
#
# Environment: BIN (default .build/release/infill), N (documents, default 150), STEPS (default 100),
# TOKENS (the field's length, default 80-100); one token per step (threshold 1.0).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/infill}
N=${N:-150}
STEPS=${STEPS:-100}
TOKENS=${TOKENS:-80-100}
MODEL=$PWD/Tests/Fixtures/tiny-llama.gguf
BIN=$(realpath "$BIN")
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "queue-scaling: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }
work=$(mktemp -d /tmp/infill-queue-scaling.XXXXXX)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown nobody "$work"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$PGBIN/initdb" -D "$work/data" -U postgres -A trust --no-sync >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$work/data" -l "$work/pg.log" -o "-p $port -k $work -c listen_addresses=127.0.0.1" -w start >/dev/null
trap 'as_pg "$PGBIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1; rm -rf "$work"' EXIT
"$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE bench"
url="postgresql://postgres@127.0.0.1:$port/bench?sslmode=disable"

spool=$work/spool
mkdir -p "$spool/pipelines"
cat > "$spool/pipelines/note.yaml" <<YAML
name: note
match: "*.note.md"
output: { name: "{stem}.md", report: true }
sampling: { steps: $STEPS, seed: 3, threshold: 1.0 }
fields:
  body:
    tokens: $TOKENS
YAML
cat > "$spool/infill.yaml" <<YAML
inbox: inbox
outbox: outbox
failed: failed
pipelines: pipelines
model: $MODEL
workers: 1
threads_per_worker: 1
log_level: warning
queue: $url
YAML
: > "$spool/local.yaml"
cd "$spool"

# drop KIND COUNT: a fresh inbox, outbox and queue with COUNT templates (note or empty).
drop() {
    rm -rf inbox outbox failed .s*
    mkdir -p inbox
    "$BIN" queue purge --all --config infill.yaml >/dev/null
    for i in $(seq 1 "$2"); do
        if [ "$1" = note ]; then printf '# Note %d\n\n{{body}}\n\nEnd of note %d.\n' "$i" "$i" > "inbox/d$i.note.md"
        else printf '# Empty %d\n\nNo field here.\n' "$i" > "inbox/d$i.note.md"; fi
    done
}
now() { date +%s.%N; }
rate() { python3 -c "print(f'{$1 / ($3 - $2) * 60:.0f} documents/minute ({$3 - $2:.1f} s for $1)')"; }

drop note "$N"
start=$(now); "$BIN" serve --once --state .s0 --workers 1 --config local.yaml --inbox inbox --outbox outbox --failed failed \
    --pipelines pipelines --model "$MODEL" --log-level warning --settle-ms 0; end=$(now)
echo "local spool, 1 worker (no queue): $(rate "$N" "$start" "$end")"
for k in 1 2 3; do
    drop note "$N"
    "$BIN" serve --once --state .s0 --roles watch
    start=$(now)
    for i in $(seq 1 "$k"); do
        roles=work; [ "$i" = 1 ] && roles=work,export
        "$BIN" serve --once --state ".s$i" --roles "$roles" &
    done
    wait
    end=$(now)
    [ "$(ls outbox | grep -vc report.json)" = "$N" ] || { echo "queue-scaling: outbox incomplete" >&2; exit 1; }
    echo "$k worker daemon(s): $(rate "$N" "$start" "$end")"
done

drop empty 300
start=$(now); "$BIN" serve --once --state .s0 --workers 1 --config local.yaml --inbox inbox --outbox outbox --failed failed \
    --pipelines pipelines --model "$MODEL" --log-level warning --settle-ms 0; local_end=$(now)
local_s=$(python3 -c "print($local_end - $start)")
drop empty 300
start=$(now); "$BIN" serve --once --state .s0; end=$(now)
python3 -c "print(f'queue overhead: {($end - $start - $local_s) / 300 * 1000:.1f} ms per document (300 empty templates: local spool {$local_s:.2f} s, queue {$end - $start:.2f} s)')"
