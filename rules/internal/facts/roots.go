package facts

import "github.com/modphp-migrate/modphp-migrate/parser"

// DocumentRoot is the DocumentRoot serving the main server (VHost nil) or
// a virtual host, as parser.Config.DocumentRootOf answers it.
type DocumentRoot struct {
	Path  string
	Node  *parser.Node // the DocumentRoot line; nil when none sets it
	VHost *parser.VHost
	// Inherited is set for a virtual host without a DocumentRoot of its
	// own (Node is then the main server's line).
	Inherited bool
}

// DocumentRoots lists the main server's DocumentRoot, then each virtual
// host's, in configuration order; hosts with no root at all are left out.
func DocumentRoots(cfg *parser.Config) []DocumentRoot {
	if cfg == nil {
		return nil
	}
	var out []DocumentRoot
	if p, n := cfg.DocumentRootOf(nil); p != "" {
		out = append(out, DocumentRoot{Path: p, Node: n})
	}
	for _, vh := range cfg.VHosts {
		p, n := cfg.DocumentRootOf(vh)
		if p == "" {
			continue
		}
		own := n != nil && cfg.VHostOf(n) == vh
		out = append(out, DocumentRoot{Path: p, Node: n, VHost: vh, Inherited: !own})
	}
	return out
}
