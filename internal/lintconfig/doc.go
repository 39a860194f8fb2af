// Package lintconfig reads .modphp-migrate.yaml, the configuration file
// modphp-migrate lint finds by walking up from the linted path: which rules
// run, the severity that fails the run, per-code severities, the access
// file names and the root a server copy lives under.
//
// Every problem in the file (a syntax error, an unknown key, a bad value or
// rule code) is an *Error that names the file, line and column.
package lintconfig
