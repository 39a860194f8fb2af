package main

import (
	"github.com/spf13/pflag"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// treeFlags are the flags that say how lint and plan read a tree: where
// its filesystem is, php-fpm's configuration beside it, how httpd would
// evaluate it, and the bounds of the loader.
type treeFlags struct {
	root         string
	fpmConfig    string
	defines      []string
	accessNames  []string
	httpdVersion string
	limits       loadLimits
}

// treeFlagUse words, per command, what it does with the flags whose use
// differs: php-fpm's configuration, access file names, and what
// --max-walk bounds beyond Include directories.
type treeFlagUse struct {
	fpmConfig  string
	accessName string
	walk       string
}

// addTreeFlags declares the tree flags, in one order for every command.
func addTreeFlags(fs *pflag.FlagSet, t *treeFlags, use treeFlagUse) {
	fs.StringVar(&t.root, "root", "", "resolve the configuration's absolute paths under `DIR` (a copy of a server's filesystem)")
	fs.StringVar(&t.fpmConfig, "fpm-config", "", "php-fpm.conf "+use.fpmConfig+" (`PATH`, or none); default: /etc/php/*/fpm/php-fpm.conf beside the tree, under --root when given")
	fs.StringArrayVarP(&t.defines, "define", "D", nil, "define `NAME` for <IfDefine>, like apache2 -D (repeatable)")
	fs.StringArrayVar(&t.accessNames, "access-file-name", nil, "access file `NAME` (replaces AccessFileName; repeatable)"+use.accessName)
	fs.StringVar(&t.httpdVersion, "httpd-version", parser.DefaultVersion, "httpd `version` <IfVersion> is evaluated against")
	addLoadLimitFlags(fs, &t.limits, use.walk)
}

// loadOptions are the parser's options for the tree flags.
func (t *treeFlags) loadOptions() parser.LoadOptions {
	o := parser.LoadOptions{Root: t.root, Defines: t.defines, Version: t.httpdVersion, AccessFileNames: t.accessNames}
	t.limits.apply(&o)
	return o
}
