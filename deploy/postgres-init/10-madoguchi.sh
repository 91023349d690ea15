#!/bin/sh
# Runs once, when the postgres service first initialises its data folder (docker-entrypoint-initdb.d):
# the municipal role and database (madoguchi) and the Organization's (jlis), each able to connect to its
# own database only, as scripts/lib.sh makes them for development. Passwords come from the secrets.
set -eu
madoguchi_pw="$(cat /run/secrets/madoguchi_db_password)"
jlis_pw="$(cat /run/secrets/jlis_db_password)"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
	-v madoguchi_pw="$madoguchi_pw" -v jlis_pw="$jlis_pw" <<'SQL'
CREATE ROLE madoguchi LOGIN PASSWORD :'madoguchi_pw';
CREATE ROLE jlis LOGIN PASSWORD :'jlis_pw';
CREATE DATABASE madoguchi OWNER madoguchi;
CREATE DATABASE jlis OWNER jlis;
REVOKE CONNECT ON DATABASE madoguchi FROM PUBLIC;
REVOKE CONNECT ON DATABASE jlis FROM PUBLIC;
SQL
