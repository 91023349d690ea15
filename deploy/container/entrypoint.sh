#!/bin/sh
# entrypoint.sh SERVICE [ARGS...]: reads the Docker secrets into the variables the service reads, then
# runs it. The secrets stay files under /run/secrets (never in the compose file or the image).
set -eu
secret() { cat "/run/secrets/$1"; }
if [ -r /run/secrets/madoguchi_db_password ]; then
	export MADOGUCHI_DB_DSN="postgres://madoguchi:$(secret madoguchi_db_password)@postgres:5432/madoguchi"
fi
if [ -r /run/secrets/jlis_db_password ]; then
	export MADOGUCHI_JLIS_DSN="postgres://jlis:$(secret jlis_db_password)@postgres:5432/jlis"
fi
if [ -r /run/secrets/hsm_pin ]; then
	export MADOGUCHI_PKCS11_PIN="$(secret hsm_pin)"
fi
if [ -r /run/secrets/codec_key ]; then
	export MADOGUCHI_CODEC_KEY_FILE=/run/secrets/codec_key
fi
service="$1"
shift
if [ "$service" = setup ]; then
	# The HSM token the CA's keys go into, made once in the caworker's volume.
	mkdir -p /var/lib/madoguchi/tokens
	if ! softhsm2-util --show-slots 2>/dev/null | grep -q "Label:.*jlis"; then
		softhsm2-util --init-token --free --label jlis --pin "$MADOGUCHI_PKCS11_PIN" --so-pin "$(secret hsm_so_pin)"
	fi
fi
exec "/opt/madoguchi/bin/$service" "$@"
