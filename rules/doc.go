// Package rules holds the checks modphp-migrate lint runs over a loaded
// Apache httpd tree, and the engine that runs them.
//
// A rule is a value (see Rule): a stable code, a lowercase title, a severity,
// its documentation as data, and a Run function that reports diagnostics
// through a Pass. A Pass shows the tree in both views the parser loads: the
// server as it is today, with mod_php, and the same tree after mod_php is
// removed (every PHP-module guard false). Rules never print, log or fail on
// bad input; a rule that panics is turned into an internal error by Run.
//
// Codes are stable and never reused: MPM0xxx are problems the loader reports
// (syntax, include, variables, I/O) and problems with suppression comments,
// MPM1xxx are the migration rules, one file per rule named for what it
// checks. Suppression follows staticcheck's //lint:ignore: a comment line
//
//	# modphp-migrate:ignore MPM1004 reason
//
// directly above a directive (or a section, which covers the whole section)
// silences that code there, and
//
//	# modphp-migrate:file-ignore MPM1004 reason
//
// silences it in the whole file. A missing reason, or an ignore that matches
// nothing, is itself reported (MPM0010, MPM0011).
//
// The behaviour every rule relies on is observed on real servers and written
// down in docs/behaviour.md with the tests that show it; each rule's Doc
// cites the facts (docs/behaviour.md#b-…) it builds on.
package rules

//go:generate go run ./gendocs -dir ../docs/rules
