package main

import (
	"path/filepath"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/rules"
)

// fpmConfigNone turns the php-fpm input off: --fpm-config=none.
const fpmConfigNone = "none"

// fpmInput loads php-fpm's configuration for one linted path.
//
// An explicit --fpm-config PATH is read as given (like the tree paths, it
// already includes --root). Without it, lint looks for
// /etc/php/*/fpm/php-fpm.conf (and the other distributions' places) under
// --root; with no --root, under the directory that holds the linted
// tree's etc/ (so lint /srv/copy/etc/apache2 finds /srv/copy/etc/php, and
// lint /etc/apache2 this machine's). Single files and trees elsewhere get
// none: they are not a server whose php-fpm we could know. The error is
// for an explicit path that cannot be read.
func fpmInput(flag, root, tree string, isDir bool) (*rules.FPM, error) {
	switch flag {
	case fpmConfigNone:
		return nil, nil
	case "":
	default:
		return rules.LoadFPM(root, flag)
	}
	if !isDir {
		return nil, nil
	}
	if root == "" {
		clean := filepath.Clean(tree)
		parent := filepath.Dir(clean)
		if filepath.Base(parent) != "etc" || (filepath.Base(clean) != "apache2" && filepath.Base(clean) != "httpd") {
			return nil, nil
		}
		root = strings.TrimSuffix(filepath.Dir(parent), "/")
	}
	path := rules.FindFPMConfig(root)
	if path == "" {
		return nil, nil
	}
	return rules.LoadFPM(root, path)
}
