#!/bin/sh
# Fetch the benchmark's peers from Debian without installing or upgrading
# anything on the machine:
#
#   restic 0.18  from trixie             (a Go binary: needs only libc6)
#   borg 1.4     from bookworm-backports (Python: its .deb and the two
#                                         Python packages it needs that the
#                                         machine may lack, from bookworm)
#
# apt runs with its own sources, lists and archive cache under $CACHE (no
# file under /etc/apt and no dpkg database is touched, so no upgrade can be
# pulled in); the .debs are unpacked with dpkg -x into $CACHE/root and
# wrappers are written to $CACHE/bin. Idempotent: a second run only
# refreshes the lists. Needs a Debian 12 machine, its Debian mirror and
# GNU time (/usr/bin/time, package `time`). Usage:
#
#   sh bench/repository/peers.sh [CACHE]    # default /var/cache/backup-flows-bench
set -eu

CACHE=${1:-/var/cache/backup-flows-bench}
# The machine's own Debian mirror (deb822 sources or sources.list), unless
# BENCH_DEBIAN_MIRROR names one.
MIRROR=${BENCH_DEBIAN_MIRROR:-$(
    { sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources
      sed -n 's/^deb  *\(\[[^]]*\] *\)\{0,1\}\([^ ]*\) .*/\2/p' \
          /etc/apt/sources.list /etc/apt/sources.list.d/*.list
    } 2>/dev/null | grep -v -e security -e '^$' | grep /debian | head -n 1)}
if [ -z "$MIRROR" ]; then
    echo "peers.sh: no Debian mirror in /etc/apt; set BENCH_DEBIAN_MIRROR" >&2
    exit 2
fi
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
APT_DIR=$CACHE/apt
ROOT=$CACHE/root

mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/archives/partial" \
    "$APT_DIR/etc/sources.list.d" "$APT_DIR/etc/preferences.d" \
    "$CACHE/debs" "$CACHE/bin"
cat > "$APT_DIR/etc/sources.list" <<EOF
deb [signed-by=$KEYRING] $MIRROR trixie main
deb [signed-by=$KEYRING] $MIRROR bookworm-backports main
deb [signed-by=$KEYRING] $MIRROR bookworm main
EOF
# apt downloads as _apt: let it write there.
if id _apt >/dev/null 2>&1; then
    chown -R _apt "$APT_DIR" "$CACHE/debs"
fi

apt_private() {
    tool=$1
    shift
    "$tool" -q \
        -o Dir::Etc::SourceList="$APT_DIR/etc/sources.list" \
        -o Dir::Etc::SourceParts="$APT_DIR/etc/sources.list.d" \
        -o Dir::Etc::Preferences="$APT_DIR/etc/preferences" \
        -o Dir::Etc::PreferencesParts="$APT_DIR/etc/preferences.d" \
        -o Dir::State::Lists="$APT_DIR/lists" \
        -o Dir::Cache="$APT_DIR" \
        "$@"
}

apt_private apt-get update >/dev/null

# Download PACKAGE/SUITE into $CACHE/debs (once) and unpack it into $ROOT.
fetch() {
    version=$(apt_private apt-cache show "$1" | sed -n 's/^Version: //p' |
              head -n 1)
    if [ -z "$version" ]; then
        echo "peers.sh: $1 not found in the Debian archive" >&2
        exit 1
    fi
    name=${1%/*}
    file=$(ls "$CACHE/debs/${name}_$(echo "$version" | sed 's/:/%3a/')_"*.deb \
           2>/dev/null || true)
    if [ -z "$file" ]; then
        (cd "$CACHE/debs" && apt_private apt-get download "$1" >/dev/null)
        file=$(ls "$CACHE/debs/${name}_$(echo "$version" | sed 's/:/%3a/')_"*.deb)
    fi
    dpkg -x "$file" "$ROOT"
    echo "$name $version"
}

fetch restic/trixie
fetch borgbackup/bookworm-backports
# borg's Python dependencies, from the machine's own release (bookworm).
fetch python3-msgpack/bookworm
fetch python3-packaging/bookworm

cat > "$CACHE/bin/restic" <<EOF
#!/bin/sh
exec "$ROOT/usr/bin/restic" "\$@"
EOF
cat > "$CACHE/bin/borg" <<EOF
#!/bin/sh
PYTHONPATH="$ROOT/usr/lib/python3/dist-packages\${PYTHONPATH:+:\$PYTHONPATH}" \\
    exec /usr/bin/python3 "$ROOT/usr/bin/borg" "\$@"
EOF
chmod +x "$CACHE/bin/restic" "$CACHE/bin/borg"

"$CACHE/bin/restic" version
"$CACHE/bin/borg" --version
test -x /usr/bin/time || echo "peers.sh: GNU time missing: apt-get install time" >&2
