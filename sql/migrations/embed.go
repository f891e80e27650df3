// Package migrations holds the database schema as ordered SQL files, embedded in the binary
// so that `bots migrate` and `bots serve` need nothing but the database.
package migrations

import "embed"

// FS holds the migration files, applied in the order of their names.
//
//go:embed *.sql
var FS embed.FS
