#!/usr/bin/env bash
# Installs, upgrades or removes the store server on Debian or Ubuntu (README, "Install").
#
#   sudo ./install.sh [--tls] [--port N] [--system-postgres]     install, or upgrade what is there
#   sudo ./install.sh --uninstall [--purge]                       remove (the data stays unless --purge)
#
# Layout: the binary with pg/ and node_modules/ beside it in /opt/store-server, the config in
# /etc/store-server/config (a generated SECRET_KEY), the data in /var/lib/store-server owned by
# the system user store-server (the embedded PostgreSQL runs as that user, so its data folder is
# always reachable), a systemd unit, and a udev rule giving that user the USB scanners.
#
# An upgrade (a binary is already installed): stop, back up, replace, migrate, start. When the
# migration fails, the previous binary and the data as it was before are put back and started.
#
# For tests: --prefix DIR puts everything under DIR (binary, config, data, unit file, udev rule)
# and writes nothing outside it: no useradd, no apt, no chown, no systemctl. --dry-run prints each
# step and changes nothing. --no-systemd writes the unit file but never calls systemctl; the
# server is then stopped through its pid file and started in the background.
set -euo pipefail

PREFIX=""
DRY=0
SYSTEMD=1
FROM=""
USER_NAME="store-server"
PORT=""
TLS=0
SYSTEM_PG=0
UNINSTALL=0
PURGE=0

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "install.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="${2:?--prefix needs a folder}"; shift 2 ;;
    --prefix=*) PREFIX="${1#*=}"; shift ;;
    --dry-run) DRY=1; shift ;;
    --no-systemd) SYSTEMD=0; shift ;;
    --from) FROM="${2:?--from needs a folder}"; shift 2 ;;
    --user) USER_NAME="${2:?--user needs a name}"; shift 2 ;;
    --port) PORT="${2:?--port needs a number}"; shift 2 ;;
    --tls) TLS=1; shift ;;
    --system-postgres) SYSTEM_PG=1; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    --purge) PURGE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

if [ -n "$PREFIX" ]; then
  [ "$DRY" = 1 ] || mkdir -p "$PREFIX" || die "cannot create $PREFIX"
  PREFIX="$(cd "$PREFIX" 2>/dev/null && pwd || echo "$PREFIX")"
  SYSTEMD=0
fi
APP_DIR="$PREFIX/opt/store-server"
ETC_DIR="$PREFIX/etc/store-server"
CONFIG="$ETC_DIR/config"
DATA_DIR="$PREFIX/var/lib/store-server"
UNIT="$PREFIX/etc/systemd/system/store-server.service"
UDEV_RULE="$PREFIX/etc/udev/rules.d/70-store-server-scanners.rules"
HERE="$(cd "$(dirname "$0")" && pwd)"

# ---- every change goes through these: --dry-run prints it instead ---------------------------
step() { echo "==> $*"; }
run() {
  echo "  + $*"
  [ "$DRY" = 1 ] || "$@"
}
# write_file PATH MODE: the content comes on stdin
write_file() {
  local content
  content="$(cat)"
  echo "  + write $1 (mode $2)"
  [ "$DRY" = 1 ] && return 0
  mkdir -p "$(dirname "$1")"
  printf '%s\n' "$content" > "$1.tmp"
  chmod "$2" "$1.tmp"
  mv "$1.tmp" "$1"
}
fill() { # fill TEMPLATE: @KEY@ → value of the shell variable KEY
  local text
  text="$(cat "$1")"
  for key in APP_DIR CONFIG DATA_DIR USER GROUP PORT SECRET_KEY PG_BIN_DIR_LINE TLS_LINES; do
    text="${text//@$key@/${!key:-}}"
  done
  printf '%s\n' "$text"
}
as_user() { # runs a command as the service user (as ourselves with --prefix)
  if [ -z "$PREFIX" ] && [ "$(id -u)" = 0 ]; then run runuser -u "$USER_NAME" -- "$@"; else run "$@"; fi
}

if [ -z "$PREFIX" ] && [ "$DRY" = 0 ] && [ "$(id -u)" != 0 ]; then die "run as root (sudo), or give --prefix DIR for a test install"; fi

# ---- the service: stop and start -------------------------------------------------------------
alive() { # a process that has exited but was not yet reaped by its parent (a zombie) counts as stopped
  kill -0 "$1" 2>/dev/null && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}
server_pid() {
  local pid
  pid="$(cat "$DATA_DIR/server.pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && alive "$pid"; then echo "$pid"; fi
}
WAS_RUNNING=0
stop_server() {
  if [ "$SYSTEMD" = 1 ]; then
    if systemctl is-active --quiet store-server 2>/dev/null; then WAS_RUNNING=1; run systemctl stop store-server; fi
    return 0
  fi
  local pid
  pid="$(server_pid)"
  [ -z "$pid" ] && return 0
  WAS_RUNNING=1
  run kill -TERM "$pid"
  [ "$DRY" = 1 ] && return 0
  for _ in $(seq 1 900); do alive "$pid" || return 0; sleep 0.1; done
  die "the server (pid $pid) did not stop within 90 s"
}
start_server() {
  if [ "$SYSTEMD" = 1 ]; then run systemctl start store-server; return 0; fi
  if [ "$WAS_RUNNING" = 1 ]; then
    echo "  + $APP_DIR/store-server start --config $CONFIG (in the background, log in $DATA_DIR/store-server.log)"
    [ "$DRY" = 1 ] && return 0
    setsid "$APP_DIR/store-server" start --config "$CONFIG" >>"$DATA_DIR/store-server.log" 2>&1 </dev/null &
  else
    echo "  start it with: $APP_DIR/store-server start --config $CONFIG"
  fi
}

# ---- uninstall -------------------------------------------------------------------------------
if [ "$UNINSTALL" = 1 ]; then
  step "stopping the server"
  stop_server
  if [ "$SYSTEMD" = 1 ]; then run systemctl disable store-server || true; fi
  step "removing the program, the unit and the udev rule"
  run rm -rf "$APP_DIR"
  run rm -f "$UNIT" "$UDEV_RULE"
  if [ "$SYSTEMD" = 1 ]; then run systemctl daemon-reload; fi
  if [ "$PURGE" = 1 ]; then
    step "--purge: removing the configuration and the data (backups included)"
    run rm -rf "$ETC_DIR" "$DATA_DIR"
  else
    echo "kept: $CONFIG and $DATA_DIR (backups in $DATA_DIR/backups); --purge removes them"
  fi
  exit 0
fi

# ---- what is installed comes from the build: store-server, pg/, node_modules/ ----------------
if [ -z "$FROM" ]; then
  if [ -x "$HERE/store-server" ]; then FROM="$HERE"; else FROM="$HERE/../dist"; fi
fi
FROM="$(cd "$FROM" 2>/dev/null && pwd)" || die "no build to install from: run npm run build, or give --from DIR"
[ -x "$FROM/store-server" ] || die "$FROM/store-server is missing: run npm run build, or give --from DIR"
[ -x "$FROM/pg/bin/postgres" ] || [ "$SYSTEM_PG" = 1 ] || die "$FROM/pg (the bundled PostgreSQL) is missing"
TEMPLATES="$HERE"
[ -f "$TEMPLATES/store-server.service" ] || die "$TEMPLATES/store-server.service is missing"

UPGRADE=0
[ -x "$APP_DIR/store-server" ] && UPGRADE=1

# ---- packages and the system user (not with --prefix) ----------------------------------------
if [ -z "$PREFIX" ]; then
  step "Debian packages: libusb-1.0-0 (scanners), postgresql-client-15 (pg_dump for backups)$([ "$SYSTEM_PG" = 1 ] && echo ', postgresql-15')"
  PKGS=(libusb-1.0-0 postgresql-client-15 openssl)
  [ "$SYSTEM_PG" = 1 ] && PKGS+=(postgresql-15)
  run apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${PKGS[@]}"
  if ! id -u "$USER_NAME" >/dev/null 2>&1; then
    step "system user $USER_NAME"
    run useradd --system --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
  fi
fi
USER="$USER_NAME"
GROUP="$USER_NAME"

# ---- upgrade: stop, back up ------------------------------------------------------------------
ROLLBACK="$DATA_DIR/upgrade-rollback"
if [ "$UPGRADE" = 1 ]; then
  step "upgrade: $("$APP_DIR/store-server" version 2>/dev/null || echo 'the installed version') → $("$FROM/store-server" version)"
  step "stopping the server"
  stop_server
  step "backing up: the program and the stopped database as they are, into $ROLLBACK"
  run rm -rf "$ROLLBACK"
  run mkdir -p "$ROLLBACK"
  if grep -q '^DATABASE_URL=' "$CONFIG" 2>/dev/null; then
    as_user "$APP_DIR/store-server" backup --config "$CONFIG"
  elif [ -d "$DATA_DIR/pg" ]; then
    run cp -a "$DATA_DIR/pg" "$ROLLBACK/pg"
  fi
  run cp -a "$APP_DIR" "$ROLLBACK/app"
fi

# ---- install or replace the program ----------------------------------------------------------
step "installing the program into $APP_DIR"
run mkdir -p "$APP_DIR"
run rm -rf "$APP_DIR/store-server.new" "$APP_DIR/pg.new" "$APP_DIR/node_modules.new"
run cp "$FROM/store-server" "$APP_DIR/store-server.new"
[ -d "$FROM/pg" ] && run cp -a "$FROM/pg" "$APP_DIR/pg.new"
[ -d "$FROM/node_modules" ] && run cp -a "$FROM/node_modules" "$APP_DIR/node_modules.new"
[ -f "$HERE/../README.md" ] && run cp "$HERE/../README.md" "$APP_DIR/README.md"
for part in pg node_modules; do
  if [ -d "$APP_DIR/$part.new" ] || [ "$DRY" = 1 ]; then run rm -rf "$APP_DIR/$part"; run mv "$APP_DIR/$part.new" "$APP_DIR/$part"; fi
done
run mv "$APP_DIR/store-server.new" "$APP_DIR/store-server"

# ---- configuration, data folder, TLS ---------------------------------------------------------
run mkdir -p "$ETC_DIR" "$DATA_DIR"
if [ -z "$PREFIX" ]; then
  run chown "$USER_NAME:$USER_NAME" "$DATA_DIR"
  run chmod 0750 "$DATA_DIR"
fi
if [ -f "$CONFIG" ]; then
  step "keeping the configuration $CONFIG"
else
  step "configuration $CONFIG (a new SECRET_KEY)"
  SECRET_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
  PORT="${PORT:-$([ "$TLS" = 1 ] && echo 443 || echo 8080)}"
  PG_BIN_DIR_LINE="$([ "$SYSTEM_PG" = 1 ] && echo 'PG_BIN_DIR=/usr/lib/postgresql/15/bin' || echo '# PG_BIN_DIR= (empty: the PostgreSQL beside the binary)')"
  if [ "$TLS" = 1 ]; then
    TLS_LINES="TLS_CERT=$ETC_DIR/tls/server.pem
TLS_KEY=$ETC_DIR/tls/server.key
TLS_CA=$ETC_DIR/tls/ca.pem"
  else
    TLS_LINES="# HTTPS: TLS_CERT=, TLS_KEY= and TLS_CA= (install.sh --tls makes a store CA and a certificate)"
  fi
  fill "$TEMPLATES/config.template" | write_file "$CONFIG" 0640
  [ -z "$PREFIX" ] && run chgrp "$USER_NAME" "$CONFIG"
fi
if [ "$TLS" = 1 ] && [ ! -f "$ETC_DIR/tls/server.pem" ]; then
  step "HTTPS: a store CA and a certificate for $(hostname) and its addresses, in $ETC_DIR/tls"
  run "$HERE/make-cert.sh" "$ETC_DIR/tls" "$(hostname)" $(hostname -I 2>/dev/null || true)
  [ -z "$PREFIX" ] && run chgrp -R "$USER_NAME" "$ETC_DIR/tls" && run chmod 0640 "$ETC_DIR/tls/server.key"
fi

# ---- systemd unit and udev rule --------------------------------------------------------------
step "systemd unit $UNIT"
fill "$TEMPLATES/store-server.service" | write_file "$UNIT" 0644
if [ "$SYSTEMD" = 1 ]; then run systemctl daemon-reload; fi
step "udev rule for USB scanners $UDEV_RULE"
fill "$TEMPLATES/70-store-server-scanners.rules" | write_file "$UDEV_RULE" 0644
if [ -z "$PREFIX" ]; then
  run udevadm control --reload-rules || true
  run udevadm trigger --subsystem-match=hidraw || true
fi

# ---- migrate; on failure, roll back ----------------------------------------------------------
step "migrating the database"
if ! as_user "$APP_DIR/store-server" migrate --config "$CONFIG"; then
  if [ "$UPGRADE" = 0 ]; then die "the migration failed; nothing was running before, nothing is started"; fi
  step "the migration FAILED: putting back the previous program and the data as they were"
  run rm -rf "$APP_DIR"
  run cp -a "$ROLLBACK/app" "$APP_DIR"
  if [ -d "$ROLLBACK/pg" ]; then
    run rm -rf "$DATA_DIR/pg"
    run cp -a "$ROLLBACK/pg" "$DATA_DIR/pg"
  elif grep -q '^DATABASE_URL=' "$CONFIG" 2>/dev/null; then
    newest="$(ls -1 "$DATA_DIR/backups"/store-*.dump 2>/dev/null | grep -v before-restore | tail -n 1)"
    as_user "$APP_DIR/store-server" restore "$newest" --config "$CONFIG"
  fi
  step "starting the previous version"
  start_server
  echo "upgrade rolled back: the previous version runs on the data as it was; the backup stays in $ROLLBACK" >&2
  exit 1
fi

# ---- start -----------------------------------------------------------------------------------
if [ "$SYSTEMD" = 1 ]; then run systemctl enable store-server; fi
if [ "$UPGRADE" = 1 ] || [ "$SYSTEMD" = 1 ]; then
  step "starting the server"
  [ "$UPGRADE" = 1 ] || WAS_RUNNING=1
  start_server
fi
[ "$UPGRADE" = 1 ] && echo "upgraded; the previous version and data stay in $ROLLBACK until the next upgrade"
echo "done: $APP_DIR/store-server, config $CONFIG, data $DATA_DIR"
