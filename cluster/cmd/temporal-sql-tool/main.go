// Command temporal-sql-tool is the Temporal server's SQL schema tool, built from the same module
// version as cmd/temporal-server so the schemas it loads are the ones that server expects.
// Only the postgres12 plugin is linked: the cluster runs on the project's Postgres.
package main

import (
	"os"

	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql" // the postgres12 plugin
	"go.temporal.io/server/tools/sql"
)

func main() {
	if err := sql.RunTool(os.Args); err != nil {
		os.Exit(1)
	}
}
