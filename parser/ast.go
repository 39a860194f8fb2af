package parser

// Kind tells what a Node is.
type Kind uint8

// The node kinds. Meaning (which directive does what) lives in the loader's
// and the rules' tables, not in the grammar.
const (
	KindDirective Kind = iota // Name Args...
	KindSection               // <Name Args...> Children </Name>
	KindComment               // # text (a whole logical line)
)

// File is one parsed configuration or access file.
type File struct {
	Path  string  // as opened (absolute when the input was absolute)
	Nodes []*Node // top-level nodes in file order
	BOM   bool    // the file starts with a UTF-8 byte-order mark
	// IncludedBy is the Include directive that read this file (nil for the
	// main file and for access files).
	IncludedBy *Node

	size int64 // bytes read (for LoadOptions.MaxBytes)
}

// Node is one logical line of a file — a directive or a comment — or a
// section with its body.
type Node struct {
	Kind Kind
	// Active reports, for a conditional section (<IfModule>, <IfDefine>,
	// <IfVersion>, <IfFile>, <IfDirective>, <IfSection>), whether its
	// condition held in the loaded view (filled by the loader). Inactive
	// bodies are kept as parsed (not substituted, includes not followed).
	// Always true for other nodes. (Next to Kind: a node is a few hundred
	// thousand times in a big tree, and padding counts.)
	Active bool

	Pos     Pos    // first physical line; column of the first non-blank byte
	EndLine int    // last physical line of a continued line (httpd reports this one)
	Name    string // directive or section name as written ("IfModule"), or the comment text after '#'
	Raw     string // argument text as written, continuations joined, before ${VAR} substitution
	// Args are the arguments split like httpd's ap_getword_conf. Parse fills
	// them from Raw; the loader re-splits them after ${VAR} substitution.
	// For sections the trailing '>' of the opening tag is removed first.
	Args     []string
	Children []*Node // body of a section; files of an Include (see Included)
	Parent   *Node   // enclosing section or Include; nil at top level

	// tail holds what only a section (its closing tag) or an Include (the
	// files it read) has: kept out of the node, which a large tree has a
	// few hundred thousand times per view, it made a node 144 bytes
	// instead of 208.
	tail *nodeTail
}

// nodeTail is the part of a Node that only sections and Includes use.
type nodeTail struct {
	close     Pos
	closeJunk string
	included  []*File
}

// ClosePos returns the position of a section's closing tag; Line 0 when
// unclosed (and for other nodes).
func (n *Node) ClosePos() Pos {
	if n.tail == nil {
		return Pos{}
	}
	return n.tail.close
}

// CloseJunk returns the text after a section's closing tag on the same
// line (ignored by httpd for tree sections, an error for a true
// <IfModule> and friends).
func (n *Node) CloseJunk() string {
	if n.tail == nil {
		return ""
	}
	return n.tail.closeJunk
}

// Included lists the files an Include/IncludeOptional pulled in, in
// httpd's order. Their nodes have this node as Parent.
func (n *Node) Included() []*File {
	if n.tail == nil {
		return nil
	}
	return n.tail.included
}

// addIncluded records a file an Include read. A parsed node's tail is
// shared with its copies (the views' nodes, cloneNodes); the first file
// gives the node a tail of its own.
func (n *Node) addIncluded(f *File) {
	if n.tail == nil || n.tail.included == nil {
		var t nodeTail
		if n.tail != nil {
			t = *n.tail
		}
		n.tail = &t
	}
	n.tail.included = append(n.tail.included, f)
}
