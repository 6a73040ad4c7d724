#!/bin/sh
# Make the data directory usable by the service user, then run the command as that user.
#
# * Started as root (the image default): create $STREAMOPS_DATA_DIR if missing, give it to
#   streamops (uid/gid 10001) when it belongs to someone else (a bind mount of a root-owned host
#   directory), and run the command as streamops. Nothing else runs as root.
# * Started as another user (`docker run --user 10001`, Kubernetes runAsUser): check the directory
#   is writable and, if not, say exactly what to do instead of failing later inside SQLite.
set -eu

DATA_DIR="${STREAMOPS_DATA_DIR:-/data}"
APP_USER="${STREAMOPS_USER:-streamops}"

if [ "$(id -u)" = "0" ]; then
    mkdir -p "$DATA_DIR"
    if [ "$(stat -c %U "$DATA_DIR")" != "$APP_USER" ]; then
        chown -R "$APP_USER:$APP_USER" "$DATA_DIR"
    fi
    exec setpriv --reuid="$APP_USER" --regid="$APP_USER" --init-groups -- "$@"
fi

case "${DATABASE_URL:-sqlite}" in
    sqlite*) ;;        # SQLite keeps its file in the data directory: check it below
    *) exec "$@" ;;    # PostgreSQL: no data directory needed
esac

if [ ! -d "$DATA_DIR" ] || [ ! -w "$DATA_DIR" ]; then
    owner="$(stat -c '%u:%g' "$DATA_DIR" 2>/dev/null || echo 'missing')"
    cat >&2 <<MSG
streamops: the data directory $DATA_DIR is not writable by uid $(id -u) (it is owned by $owner).
  Bind mount: run 'sudo chown -R $(id -u):$(id -g) <host directory>' once on the host,
  or start the container as root (the default) and it will fix the owner, then drop to $APP_USER.
  Or use a named volume (docker volume create streamops-data), which starts owned by $APP_USER,
  or PostgreSQL (DATABASE_URL=postgresql+asyncpg://...), which needs no data directory.
MSG
    exit 1
fi
exec "$@"
