#!/usr/bin/env bash
# Runs sqlmap (Debian's package) at level 3 against the REST endpoints of a
# config-driven resource served by a real `covet serve`, and fails if it
# finds anything injectable. Only 127.0.0.1 is ever targeted.
#
#   tests/security/sqlmap.sh [sqlite|postgres|mysql]    (default: sqlite)
#
# COVET_BIN is the covet binary (default build/bin/covet). Each sqlmap run is
# bounded by SQLMAP_TIMEOUT seconds (default 900).
set -euo pipefail
cd "$(dirname "$0")/../.."
db=${1:-sqlite}
bin=${COVET_BIN:-build/bin/covet}
limit=${SQLMAP_TIMEOUT:-900}
command -v sqlmap >/dev/null || { echo "sqlmap is not installed: apt-get install sqlmap (make test-security does)" >&2; exit 1; }
[ -x "$bin" ] || { echo "$bin is missing: make build" >&2; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	case $db in
	postgres) psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS covet_sqlmap CASCADE" >/dev/null 2>&1 || true ;;
	mysql) mariadb -h 127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS covet_sqlmap" >/dev/null 2>&1 || true ;;
	esac
	rm -rf "$work"
}
trap cleanup EXIT

case $db in
sqlite) dsn="sqlite:covet_data/covet.db" ;;
postgres)
	psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS covet_sqlmap CASCADE; CREATE SCHEMA covet_sqlmap" >/dev/null
	dsn="postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=covet_sqlmap" ;;
mysql)
	mariadb -h 127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS covet_sqlmap; CREATE DATABASE covet_sqlmap"
	dsn="mysql://root@127.0.0.1:3306/covet_sqlmap" ;;
*) echo "unknown database $db: want sqlite, postgres or mysql" >&2; exit 2 ;;
esac

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/project"
cat >"$work/project/covet.json" <<JSON
{"server": {"listen": "127.0.0.1:$port", "accessLog": "off"},
 "database": {"primary": "$dsn"},
 "resources": [{"name": "users", "table": "users", "fields": [
   {"name": "name", "type": "string", "required": true, "maxLength": 100},
   {"name": "email", "type": "string", "required": true, "unique": true},
   {"name": "age", "type": "int"}, {"name": "bio", "type": "text"}]}],
 "routes": [{"id": "users", "path": "/users", "kind": "resource", "resource": "users"}]}
JSON
"$bin" serve --project "$work/project" >"$work/server.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do
	curl -fsS "$base/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "$base/healthz" >/dev/null || { cat "$work/server.log"; exit 1; }
for i in 1 2 3; do
	curl -fsS -X POST -H 'Content-Type: application/json' -d "{\"name\": \"User $i\", \"email\": \"u$i@example.com\", \"age\": 3$i, \"bio\": \"hello\"}" "$base/users" >/dev/null
done

status=0
scan() { # NAME, then sqlmap arguments
	local name=$1
	shift
	echo "sqlmap: $name"
	if ! timeout "$limit" sqlmap --batch --level 3 --risk 1 --flush-session --disable-coloring \
		--output-dir "$work/sqlmap" "$@" >"$work/$name.log" 2>&1; then
		echo "sqlmap ($name) failed or timed out:" >&2
		tail -20 "$work/$name.log" >&2
		status=1
		return
	fi
	if grep -Eiq "is vulnerable|identified the following injection point|appears to be injectable" "$work/$name.log"; then
		echo "sqlmap ($name) found an injection:" >&2
		grep -Ei -A8 "injection point|injectable" "$work/$name.log" >&2
		status=1
		return
	fi
	grep -E "do not appear to be injectable|not injectable" "$work/$name.log" | tail -3
}

scan list -u "$base/users?name=User+1&age=31&sort=name&fields=name,email&limit=10&email%5Blike%5D=u%25" \
	-p "name,age,sort,fields,limit,email[like]"
# Paging: offset, a comparison filter, and a keyset cursor (base64 JSON
# the server decodes into placeholders).
scan page -u "$base/users?sort=-age&limit=1&offset=1&age%5Bgte%5D=30" -p "offset,age[gte]"
cursor=$(curl -fsS "$base/users?sort=age&limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["next"])')
scan cursor -u "$base/users?sort=age&limit=1&after=$cursor" -p "after"
scan item -u "$base/users/1*"
scan create -u "$base/users" --method POST --headers "Content-Type: application/json" \
	--data '{"name": "Eve", "email": "eve@example.com", "age": 40, "bio": "x"}'
scan update -u "$base/users/2" --method PATCH --headers "Content-Type: application/json" \
	--data '{"name": "Bob", "age": 41}'
scan replace -u "$base/users/3" --method PUT --headers "Content-Type: application/json" \
	--data '{"name": "Carol", "email": "carol@example.com", "age": 42, "bio": "y"}'

if [ $status -ne 0 ]; then
	echo "tests/security/sqlmap.sh ($db): FAIL" >&2
	exit 1
fi
echo "tests/security/sqlmap.sh ($db): no injectable parameter found"
