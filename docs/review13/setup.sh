#!/bin/sh
# Makes users r13alice, r13bob (homes under /tmp/r13/home) and a site root /tmp/r13/www
# with users/alice and users/bob owned by each. Undo: teardown.sh
set -e
B=/tmp/r13
mkdir -p $B/home $B/www/users
chmod 755 $B $B/home $B/www $B/www/users
for u in alice bob; do
  id r13$u >/dev/null 2>&1 || useradd --home-dir $B/home/r13$u --no-create-home --user-group --shell /usr/sbin/nologin r13$u
  mkdir -p $B/home/r13$u $B/www/users/$u
  chown r13$u:r13$u $B/home/r13$u $B/www/users/$u
  chmod 711 $B/home/r13$u; chmod 755 $B/www/users/$u
done
cat > $B/www/users/bob/hello.py <<'P'
import os
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [f"bob pid {os.getpid()} uid {os.getuid()}\n".encode()]
P
echo "bob secret" > $B/home/r13bob/secret.txt; chmod 600 $B/home/r13bob/secret.txt
chown r13bob:r13bob $B/www/users/bob/hello.py $B/home/r13bob/secret.txt
