#!/usr/bin/env bash
# install.sh — installs what madoguchi's run/test scripts need on a Debian 12 machine:
# the Debian packages of the real parts (Postgres, SoftHSM2, pcscd + vsmartcard-vpcd, OpenSC,
# chromium for the console's browser tests)
# and the pinned Temporal CLI. Idempotent, and fast when everything is present.
#
#   install.sh               the packages and the CLI
#   install.sh --cluster     also the Temporal server of cluster/ (its own Go module: the server
#                            at the CLI's embedded version with our authorizer, its SQL tool, the
#                            local CA command, and the server's Postgres schemas), for `make cluster`
#   install.sh --cluster-dir prints the folder those are cached in, and builds nothing
#
# Environment:
#   MADOGUCHI_TEMPORAL_VERSION  pinned Temporal CLI version (default v1.5.1)
#   MADOGUCHI_BUILD_WAIT_MIN    minutes to wait for someone else's Temporal CLI build (default 40)
set -euo pipefail

TEMPORAL_VERSION="${MADOGUCHI_TEMPORAL_VERSION:-v1.5.1}"
TEMPORAL_MODULE="github.com/temporalio/cli/cmd/temporal"
# The server version the pinned CLI embeds (its go.mod); cluster/go.mod requires the same.
CLUSTER_SERVER_VERSION="v1.29.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

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

# cluster_dir prints where the cluster's binaries are cached: under GOBIN, keyed by the server
# version and a hash of cluster/'s sources, so a change to our authorizer rebuilds and an
# unchanged tree reuses the build (as the CLI's is reused).
cluster_dir() {
	local gobin hash
	gobin="$(go env GOBIN)"
	[[ -n ${gobin} ]] || gobin="$(go env GOPATH)/bin"
	hash="$(cd "${ROOT}/cluster" && find . -type f \( -name '*.go' -not -name '*_test.go' -o -name go.mod -o -name go.sum \) -print0 |
		LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)"
	echo "${gobin}/madoguchi-cluster/${CLUSTER_SERVER_VERSION}-${hash}"
}

install_cluster() {
	local dir lock srv
	dir="$(cluster_dir)"
	if [[ -x ${dir}/temporal-server && -x ${dir}/temporal-sql-tool && -x ${dir}/clusterca && -d ${dir}/schema ]]; then
		log "Temporal cluster ${CLUSTER_SERVER_VERSION}: present (${dir})"
		return
	fi
	mkdir -p "$(dirname "${dir}")"
	lock="$(dirname "${dir}")/.build.lock"
	exec {cl_fd}>"${lock}"
	flock "${cl_fd}"
	if [[ ! -x ${dir}/temporal-server || ! -d ${dir}/schema ]]; then
		log "Temporal cluster: building cluster/ (server ${CLUSTER_SERVER_VERSION}; minutes on 2 cores the first time)"
		local start=${SECONDS}
		# Its own module: -mod=mod resolves from cluster/go.sum, never touching the root module.
		(cd "${ROOT}/cluster" && GOFLAGS="${GOFLAGS:-} -mod=mod" go build -o "${dir}.tmp/" ./cmd/...)
		srv="$(cd "${ROOT}/cluster" && GOFLAGS="${GOFLAGS:-} -mod=mod" go list -m -f '{{.Dir}}' go.temporal.io/server)"
		[[ "$(cd "${ROOT}/cluster" && GOFLAGS="${GOFLAGS:-} -mod=mod" go list -m -f '{{.Version}}' go.temporal.io/server)" == "${CLUSTER_SERVER_VERSION}" ]] ||
			die "cluster/go.mod does not require go.temporal.io/server ${CLUSTER_SERVER_VERSION}"
		mkdir -p "${dir}.tmp/schema"
		cp -r "${srv}/schema/postgresql" "${dir}.tmp/schema/"
		chmod -R u+w "${dir}.tmp/schema"
		rm -rf "${dir}"
		mv "${dir}.tmp" "${dir}"
		log "Temporal cluster: built in $(((SECONDS - start) / 60)) min (${dir})"
	fi
	flock -u "${cl_fd}"
	exec {cl_fd}>&-
}

main() {
	local cluster=0
	case "${1:-}" in
	--cluster-dir)
		ensure_go >/dev/null 2>&1
		cluster_dir
		return
		;;
	--cluster) cluster=1 ;;
	"") ;;
	*) die "usage: $0 [--cluster | --cluster-dir]" ;;
	esac
	install_apt_packages
	ensure_go
	install_temporal
	if ((cluster == 1)); then
		install_cluster
	fi
}

main "$@"
