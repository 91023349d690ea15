#!/usr/bin/env bash
# install.sh — installs what madoguchi's run/test scripts need on a Debian 12 machine:
# the Debian packages of the real parts (Postgres, SoftHSM2, pcscd + vsmartcard-vpcd, OpenSC,
# chromium for the console's browser tests)
# and the pinned Temporal CLI. Idempotent, and fast when everything is present.
#
# Environment:
#   MADOGUCHI_TEMPORAL_VERSION  pinned Temporal CLI version (default v1.5.1)
#   MADOGUCHI_BUILD_WAIT_MIN    minutes to wait for someone else's Temporal CLI build (default 40)
set -euo pipefail

TEMPORAL_VERSION="${MADOGUCHI_TEMPORAL_VERSION:-v1.5.1}"
TEMPORAL_MODULE="github.com/temporalio/cli/cmd/temporal"

# Debian packages: the real parts, plus the few tools the scripts themselves call (a minimal
# image may lack procps/openssl), a C toolchain for the cgo packages (pkcs11, PC/SC),
# poppler, with which the tests read the letters back as a PDF reader does, the IPAex
# fonts, whose subsets every letter embeds (internal/letter), and chromium, the browser the
# staff console's tests drive headless through chromedp (tests/integration/console_test.go),
# and docker-compose, whose `config` validates docker-compose.yml in the test command (no engine).
APT_PACKAGES=(
	postgresql softhsm2 pcscd vsmartcard-vpcd libpcsclite-dev opensc
	openssl procps ca-certificates gcc libc6-dev pkg-config
	poppler-utils poppler-data
	fonts-ipaexfont-gothic fonts-ipaexfont-mincho
	chromium
	docker-compose
)

log() { printf '[install %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# as_root runs a command as root: directly when we are root, else through sudo.
as_root() {
	if [[ ${EUID} -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

install_apt_packages() {
	local missing=() pkg
	for pkg in "${APT_PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("${pkg}")
		fi
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		log "Debian packages: all present"
		return
	fi
	log "Debian packages missing: ${missing[*]} — installing"
	export DEBIAN_FRONTEND=noninteractive
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
	log "Debian packages: installed ${missing[*]}"
}

ensure_go() {
	if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
		export PATH="/usr/local/go/bin:${PATH}"
	fi
	command -v go >/dev/null 2>&1 || die "Go is not installed (expected Go 1.26 at /usr/local/go)"
	log "Go: $(go version)"
}

# temporal_is_pinned tells whether the binary $1 was built from the pinned CLI module.
# `temporal --version` of a `go install` build says 0.0.0-DEV (the release stamps the version with
# ldflags), so the module version recorded in the binary's build info is the reliable check.
temporal_is_pinned() {
	local bin="$1" v
	[[ -x ${bin} ]] || return 1
	v="$(go version -m "${bin}" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/temporalio/cli" {print $3}')"
	[[ ${v} == "${TEMPORAL_VERSION}" ]] && return 0
	"${bin}" --version 2>/dev/null | grep -qF " ${TEMPORAL_VERSION#v} "
}

install_temporal() {
	local gobin bin lock waited=0 max_wait
	gobin="$(go env GOBIN)"
	[[ -n ${gobin} ]] || gobin="$(go env GOPATH)/bin"
	bin="${gobin}/temporal"
	max_wait=$((${MADOGUCHI_BUILD_WAIT_MIN:-40} * 60))

	if temporal_is_pinned "${bin}"; then
		log "Temporal CLI ${TEMPORAL_VERSION}: present (${bin})"
		return
	fi

	# Someone else (another checkout, the lead's shell) may be building it right now: wait for that
	# build instead of starting a second ~10-minute one on a 2-core machine.
	while pgrep -f "go install ${TEMPORAL_MODULE}@" >/dev/null 2>&1; do
		if ((waited == 0)); then
			log "Temporal CLI: another 'go install ${TEMPORAL_MODULE}' is running; waiting for it"
		fi
		if ((waited >= max_wait)); then
			die "gave up waiting ${max_wait}s for the other Temporal CLI build"
		fi
		sleep 10
		waited=$((waited + 10))
	done
	if temporal_is_pinned "${bin}"; then
		log "Temporal CLI ${TEMPORAL_VERSION}: present (${bin}, built by the other process)"
		return
	fi

	mkdir -p "${gobin}"
	lock="${gobin}/.temporal-build.lock"
	exec {lock_fd}>"${lock}"
	flock "${lock_fd}"
	# Re-check under the lock: a concurrent install.sh may have finished the build meanwhile.
	if ! temporal_is_pinned "${bin}"; then
		log "Temporal CLI: building ${TEMPORAL_MODULE}@${TEMPORAL_VERSION} (about 10 minutes on 2 cores)"
		local start=${SECONDS}
		# GOFLAGS (e.g. -buildvcs=false) is inherited as set by the environment.
		go install "${TEMPORAL_MODULE}@${TEMPORAL_VERSION}"
		log "Temporal CLI: built in $(((SECONDS - start) / 60)) min"
	fi
	flock -u "${lock_fd}"
	exec {lock_fd}>&-
	temporal_is_pinned "${bin}" || die "Temporal CLI at ${bin} is not ${TEMPORAL_VERSION} after the build"
	log "Temporal CLI ${TEMPORAL_VERSION}: ready (${bin})"
}

main() {
	install_apt_packages
	ensure_go
	install_temporal
}

main "$@"
