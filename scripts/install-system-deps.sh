#!/bin/sh
# Install the system tools the mipc end-to-end tests need, on Debian (bookworm), as root.
#
#   nginx             serves the generated tree (tests/e2e/test_nginx_serving.py)
#   isc-dhcp-server   dhcpd -t        (ISC dhcpd syntax check)
#   kea-dhcp4-server  kea-dhcp4 -t    (Kea 2.x syntax check)
#   dnsmasq           dnsmasq --test  (dnsmasq syntax check)
#   bind9-utils       named-checkzone / named-compilezone
#
# Idempotent: when every tool is already present it does nothing and touches no network.
# Not as root and not in CI (CI=true) it installs nothing: it says what is missing and exits 0,
# and the end-to-end tests that need a missing tool skip (`make test` lists them). In CI a
# missing tool is an error, here and in the tests.
# Daemons are not started: a policy-rc.d that answers 101 ("action forbidden") is in
# place during the install, and any daemon that got started anyway is stopped afterwards.
set -eu

# package:executable pairs (executables may live in /usr/sbin)
PAIRS="nginx:nginx isc-dhcp-server:dhcpd kea-dhcp4-server:kea-dhcp4 dnsmasq:dnsmasq bind9-utils:named-checkzone"
# the services these packages ship
SERVICES="nginx isc-dhcp-server kea-dhcp4-server dnsmasq"

# where executables may be besides PATH (MIPC_SBIN_DIRS: for the tests of this script)
SBIN_DIRS=${MIPC_SBIN_DIRS-/usr/sbin:/sbin}

have() {
    PATH="$PATH:$SBIN_DIRS" command -v "$1" >/dev/null 2>&1
}

missing=""
for pair in $PAIRS; do
    pkg=${pair%%:*}
    exe=${pair#*:}
    if ! have "$exe"; then
        missing="$missing $pkg"
    fi
done

if [ -z "$missing" ]; then
    echo "install-system-deps: all tools present, nothing to do"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    case "${CI:-}" in
    true | TRUE | True)
        echo "install-system-deps: missing:$missing; run this script as root" >&2
        exit 1
        ;;
    esac
    echo "install-system-deps: missing:$missing; not root, so nothing installed:" \
        "the end-to-end tests that need them are skipped (as root: make system-deps)"
    exit 0
fi

POLICY=/usr/sbin/policy-rc.d
policy_backup=""
if [ -e "$POLICY" ]; then
    policy_backup=$(mktemp)
    cp -p "$POLICY" "$policy_backup"
fi
restore_policy() {
    if [ -n "$policy_backup" ]; then
        mv -f "$policy_backup" "$POLICY"
    else
        rm -f "$POLICY"
    fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# installed by mipc scripts/install-system-deps.sh for the duration of the install\nexit 101\n' >"$POLICY"
chmod 0755 "$POLICY"

echo "install-system-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing

# Stop anything the install started despite the policy (e.g. without invoke-rc.d).
for svc in $SERVICES; do
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        systemctl stop "$svc" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$svc" ]; then
        "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    fi
done

for pair in $PAIRS; do
    exe=${pair#*:}
    if ! have "$exe"; then
        echo "install-system-deps: $exe still missing after install" >&2
        exit 1
    fi
done
echo "install-system-deps: done"
