package parser

// Walk visits nodes depth-first in read order: section bodies, and the
// files an Include pulled in. Bodies of false conditionals are skipped
// unless all is set (then they are visited as parsed: not substituted,
// includes not followed). fn returns false to skip a node's children.
func Walk(ns []*Node, all bool, fn func(*Node) bool) {
	for _, n := range ns {
		if !fn(n) {
			continue
		}
		if n.Kind == KindSection && (n.Active || all) {
			Walk(n.Children, all, fn)
		}
		for _, f := range n.Included() {
			Walk(f.Nodes, all, fn)
		}
	}
}

// Walk visits the whole active tree of c from its main file.
func (c *Config) Walk(fn func(*Node) bool) {
	if c.Main != nil {
		Walk(c.Main.Nodes, false, fn)
	}
}

// IncludeChain returns the Include directives that led to n, outermost first.
func IncludeChain(n *Node) []*Node {
	var chain []*Node
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Kind == KindDirective {
			chain = append([]*Node{p}, chain...)
		}
	}
	return chain
}

// Enclosing returns the nearest enclosing section of n whose lower-case
// name is one of names (skipping Include directives), or nil.
func Enclosing(n *Node, names ...string) *Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Kind != KindSection {
			continue
		}
		for _, name := range names {
			if equalFold(p.Name, name) {
				return p
			}
		}
	}
	return nil
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
