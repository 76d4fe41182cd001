#!/bin/sh
# F5: the worker read and parsed a REQUEST's script (is_page_source) BEFORE owner.py's
# check: a compromised server child naming as the script a file the tenant may read but
# does not own (here bob's, readable by a group alice is in) got its first line that is not
# Python back in the SyntaxError's traceback (the ERROR frame goes to the server child).
# This runs what the worker does with such a REQUEST (request.find_app, errors.describe)
# as a real tenant with the variable the launcher sets. Run as root from the worktree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
a=ppra$$; b=pprb$$; g=pprg$$
base=$(mktemp -d /tmp/rv-f5-XXXXXX); chmod 755 "$base"
groupadd "$g"
useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group -G "$g" "$a"
useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$b"
trap 'userdel "$a" 2>/dev/null || true; userdel "$b" 2>/dev/null || true; groupdel "$g" 2>/dev/null || true; rm -rf "$base"' EXIT
printf 'machine db.example.com login bob password s3cretPW\n' >"$base/netrc"
chown "$b:$g" "$base/netrc"; chmod 640 "$base/netrc"
ua=$(id -u "$a")
cd /
got=$(setpriv --reuid "$ua" --regid "$(id -g "$a")" --groups "$(getent group "$g" | cut -d: -f3)" --no-new-privs env -i \
  PYTHONPATH="$repo/lib/python" PYPAGES_OWNER_ONLY="$ua 33" /usr/bin/python3 -c "
from pypages_worker import errors, request
try:
    request.find_app('$base/netrc')
except BaseException as err:
    print(''.join(errors.describe(err)))
")
echo "$got" | tail -4
if echo "$got" | grep -q s3cretPW; then echo "VULNERABLE: a line of bob's file came back"; exit 1; fi
echo "not reproduced (fixed): refused before it was read"
