#!/usr/bin/env bash
# Installs Debian's OpenSSH server for the V2V proxy-host tests (test/support/sshd.ts), idempotently.
# The package's own service is not used: the tests start their own `sshd -D` on a 127.0.0.1 port with
# a generated host key. Needs root (as on the project's machines and in CI).
set -euo pipefail
if ! [ -x /usr/sbin/sshd ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the package's postinst from starting a system sshd on port 22.
  had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  if [ "$had_policy" = 0 ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
  if [ "$had_policy" = 0 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
mkdir -p /run/sshd
chmod 0755 /run/sshd
/usr/sbin/sshd -V 2>&1 | head -1 || true
