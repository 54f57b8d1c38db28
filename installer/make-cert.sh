#!/usr/bin/env bash
# make-cert.sh DIR NAME [ADDRESS...]: a store CA (ca.pem, ca.key) and a server certificate for
# NAME, NAME.local and the addresses (server.pem, server.key), signed by it, in DIR. Terminals
# trust the CA once (the pairing page offers ca.pem); the server's certificate can then be made
# again for new addresses without touching them.
set -euo pipefail
dir="${1:?usage: make-cert.sh DIR NAME [ADDRESS...]}"
name="${2:?usage: make-cert.sh DIR NAME [ADDRESS...]}"
shift 2
mkdir -p "$dir"
chmod 0750 "$dir"
cd "$dir"
if [ ! -f ca.pem ]; then
  openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 3650 -keyout ca.key -out ca.pem \
    -subj "/CN=Store CA ($name)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 0600 ca.key
fi
san="DNS:$name,DNS:$name.local,DNS:localhost,IP:127.0.0.1"
for a in "$@"; do
  case "$a" in *:*) san="$san,IP:$a" ;; *.*.*.*) san="$san,IP:$a" ;; esac
done
ext="$(mktemp)"
trap 'rm -f "$ext" server.csr' EXIT
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$san" > "$ext"
openssl req -new -nodes -newkey rsa:2048 -sha256 -keyout server.key -out server.csr -subj "/CN=$name" 2>/dev/null
# 825 days: the longest validity browsers accept for a server certificate
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days 825 -extfile "$ext" -out server.pem 2>/dev/null
chmod 0640 server.key
echo "made $dir/server.pem for $san, signed by $dir/ca.pem"
