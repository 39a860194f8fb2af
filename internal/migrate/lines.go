package migrate

import (
	"strings"

	"github.com/modphp-migrate/modphp-migrate/parser"
)

// treeLines are the directives of the server configuration the plan
// reads, found in one walk of every body (in effect or not), in read
// order: on a large tree the walk costs more than what is done with the
// few lines it finds, and four steps of the plan look for lines.
type treeLines struct {
	php      []*parser.Node                  // php_value, php_flag, php_admin_* (collectServer)
	routes   []*parser.Node                  // ProxyPass, ProxyPassMatch, RewriteRule (routes)
	handlers []*parser.Node                  // SetHandler, AddHandler, AddType (phpFilesPatterns)
	identity map[*parser.Node][]*parser.Node // SuexecUserGroup and co. by <VirtualHost> (identityDirective)
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
		switch name := parser.LowerName(n.Name); name {
		case "proxypass", "proxypassmatch", "rewriterule": // routeTarget's
			t.routes = append(t.routes, n)
		case "sethandler", "addhandler", "addtype": // phpFilesPatterns'
			t.handlers = append(t.handlers, n)
		case "suexecusergroup", "assignuserid", "suphp_usergroup", "ruidgid":
			// suEXEC, mpm-itk, suPHP and mod_ruid2 give a virtual host's
			// PHP user and group (identityDirective)
			if vh := parser.Enclosing(n, "virtualhost"); vh != nil {
				t.identity[vh] = append(t.identity[vh], n)
			}
		default:
			if !strings.HasPrefix(name, "php_") {
				break // most lines: none the plan reads
			}
			if _, ok := phpDirectiveOf(name); ok {
				t.php = append(t.php, n)
			}
		}
		return true
	})
	return t
}
