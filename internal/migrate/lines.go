package migrate

import "github.com/modphp-migrate/modphp-migrate/parser"

// treeLines are the directives of the server configuration the plan
// reads, found in one walk of every body (in effect or not), in read
// order: on a large tree the walk costs more than what is done with the
// few lines it finds, and four steps of the plan look for lines.
type treeLines struct {
	php      []*parser.Node                  // php_value, php_flag, php_admin_* (collectServer)
	routes   []*parser.Node                  // ProxyPass, ProxyPassMatch, RewriteRule (routes)
	handlers []*parser.Node                  // SetHandler, AddHandler, AddType (phpFilesPatterns)
	identity map[*parser.Node][]*parser.Node // suEXEC and co. by <VirtualHost> (identityDirective)
}

// findLines walks cfg's tree once.
func findLines(cfg *parser.Config) *treeLines {
	t := &treeLines{identity: map[*parser.Node][]*parser.Node{}}
	if cfg.Main == nil {
		return t
	}
	parser.Walk(cfg.Main.Nodes, true, func(n *parser.Node) bool {
		if n.Kind != parser.KindDirective {
			return true
		}
		name := parser.LowerName(n.Name)
		switch {
		case routeNames[name]:
			t.routes = append(t.routes, n)
		case handlerNames[name]:
			t.handlers = append(t.handlers, n)
		case identityDirectives[name]:
			if vh := parser.Enclosing(n, "virtualhost"); vh != nil {
				t.identity[vh] = append(t.identity[vh], n)
			}
		default:
			if _, ok := phpDirectiveOf(n.Name); ok {
				t.php = append(t.php, n)
			}
		}
		return true
	})
	return t
}

// routeNames are the directives routeTarget reads.
var routeNames = map[string]bool{"proxypass": true, "proxypassmatch": true, "rewriterule": true}

// handlerNames are the directives phpFilesPatterns reads.
var handlerNames = map[string]bool{"sethandler": true, "addhandler": true, "addtype": true}
