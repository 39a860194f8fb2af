package parser

import "github.com/modphp-migrate/modphp-migrate/internal/rootfs"

// View selects which server the loader evaluates the tree for.
type View uint8

// The two views rules compare.
const (
	// Today is the server as configured now (mod_php loaded if LoadModule says so).
	Today View = iota
	// AfterModPHP is the same tree with mod_php removed: every PHP-module
	// guard (<IfModule mod_php.c>, <IfModule php_module>, …) is false.
	AfterModPHP
)

// String names the view as the JSON output and messages do.
func (v View) String() string {
	if v == AfterModPHP {
		return "after-mod_php"
	}
	return "today"
}

// Severity of a loader diagnostic.
type Severity string

// Loader diagnostic severities.
const (
	SevError   Severity = "error"   // httpd would refuse the configuration (or the .htaccess answers 500)
	SevWarning Severity = "warning" // httpd accepts it but logs a warning (e.g. undefined ${VAR})
	SevInfo    Severity = "info"
)

// Diagnostic is a problem found while reading the tree: syntax, includes,
// variables, unreadable files. Rules turn them into coded findings.
type Diagnostic struct {
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	Kind     string   `json:"kind"` // "syntax", "include", "variable", "io", "bom", "limit"
	Message  string   `json:"message"`
	Related  []Pos    `json:"related,omitempty"`
}

// Module is a LoadModule line (or a module compiled into httpd: Pos.Line 0).
type Module struct {
	ID   string `json:"id"`   // module identifier, e.g. "rewrite_module"
	Path string `json:"path"` // shared object path as written; "" for static modules
	Pos  Pos    `json:"pos"`
}

// VHost is a <VirtualHost> section.
type VHost struct {
	Node       *Node    `json:"-"`
	Addrs      []string `json:"addrs"`
	ServerName string   `json:"server_name"`
	// ServerAliases are the ServerAlias names (not Alias directives: see
	// Config.Aliases).
	ServerAliases []string `json:"server_aliases"`
	// DocumentRoot is resolved: absolute path as httpd sees it, the main
	// server's when the vhost sets none (Config.DocumentRootOf gives the line).
	DocumentRoot string `json:"document_root"`
	Pos          Pos    `json:"pos"` // the <VirtualHost> opener (as apache2 -S prints it)
	// Sections are the active <Directory>, <DirectoryMatch>, <Files>,
	// <FilesMatch>, <Location>, <LocationMatch>, <Proxy> and <ProxyMatch>
	// sections inside the vhost, in file order.
	Sections []*Node `json:"-"`

	docRoot *Node // the DocumentRoot line (the main server's when inherited)
}

// Override is the effective AllowOverride/AllowOverrideList for a directory.
type Override struct {
	Set  bool     // an AllowOverride applied somewhere; false means httpd's default (.htaccess still read)
	Mask uint     // OR_* bits as in httpd's http_config.h (OverrideLimit…)
	List []string // AllowOverrideList directive names (lower-case)
	Pos  Pos      // the AllowOverride that decided it
	// Nonfatal holds the AllowOverride Nonfatal= bits (NonfatalOverride,
	// NonfatalUnknown): httpd then skips, with a warning, an access-file
	// directive the override forbids or does not know, instead of
	// answering 500.
	Nonfatal uint
}

// The AllowOverride Nonfatal= bits (Nonfatal=All is both).
const (
	NonfatalOverride uint = 1
	NonfatalUnknown  uint = 2
)

// The AllowOverride classes, with httpd's bit values.
const (
	OverrideLimit    uint = 1
	OverrideOptions  uint = 2
	OverrideFileInfo uint = 4
	OverrideAuth     uint = 8
	OverrideIndexes  uint = 16
	OverrideAll           = OverrideLimit | OverrideOptions | OverrideFileInfo | OverrideAuth | OverrideIndexes
)

// Reads reports whether httpd opens access files in a directory with this override.
func (o Override) Reads() bool { return !o.Set || o.Mask != 0 || len(o.List) > 0 }

// AccessFile is a .htaccess (or AccessFileName) file found under a
// DocumentRoot or <Directory> whose override lets httpd read it.
type AccessFile struct {
	File     *File    // parsed and evaluated against the view's modules
	Dir      string   // the directory it governs (absolute, as httpd sees it)
	Override Override // effective override for Dir
}

// Config is the model of one server tree in one view.
type Config struct {
	View        View
	Root        string // prefix under which absolute paths are resolved ("" = the real filesystem)
	ServerRoot  string
	MainFile    string
	Main        *File
	Files       []*File  // every file read, in include order (a file included twice appears twice)
	Modules     []Module // in load order, static modules first
	MPM         string   // "prefork", "worker", "event" or ""
	User, Group string
	VHosts      []*VHost
	// DocumentRoot is the main server's (outside any <VirtualHost>), "" if unset.
	DocumentRoot string
	// Aliases are the Alias, AliasMatch, ScriptAlias and ScriptAliasMatch
	// lines in effect, in file order.
	Aliases     []Alias
	AccessNames []string // AccessFileName list (default .htaccess)
	Access      []*AccessFile
	Defines     map[string]string
	// Vars are the Define NAME VALUE variables (a Define without a value
	// is not a ${NAME} variable), Envvars what Debian's envvars beside
	// the main file exports (not its other assignments): with the server's start-up environment, what
	// httpd substitutes for ${NAME} (ap_resolve_env), also in access files
	// read at request time.
	Vars, Envvars map[string]string
	Diagnostics   []Diagnostic

	fs      *rootfs.Root     // resolves paths under Root (nil: the real filesystem)
	dirs    *dirIndex        // non-regex <Directory> sections, for AllowOverrideFor
	vhosts  map[*Node]*VHost // <VirtualHost> section → vhost, for VHostOf
	vhostAt map[Pos]*VHost   // the same by the opener's position (a node of the other view)
	docRoot *Node            // the main server's DocumentRoot line
	listed  *dirListings     // what the search for access files listed (both views)
}

// AliasKind tells which directive maps a URL to a directory.
type AliasKind uint8

// The alias directives of mod_alias.
const (
	PlainAlias       AliasKind = iota // Alias URL-path target
	AliasMatch                        // AliasMatch regex target
	ScriptAlias                       // ScriptAlias URL-path target (CGI)
	ScriptAliasMatch                  // ScriptAliasMatch regex target (CGI)
)

// String returns the directive's name.
func (k AliasKind) String() string {
	return [...]string{"Alias", "AliasMatch", "ScriptAlias", "ScriptAliasMatch"}[k]
}

// Regex reports whether the URL is a regular expression (the Match forms).
func (k AliasKind) Regex() bool { return k == AliasMatch || k == ScriptAliasMatch }

// aliasKinds maps lower-case directive names to their kind.
var aliasKinds = map[string]AliasKind{
	"alias": PlainAlias, "aliasmatch": AliasMatch, "scriptalias": ScriptAlias, "scriptaliasmatch": ScriptAliasMatch,
}

// Alias is an Alias, AliasMatch, ScriptAlias or ScriptAliasMatch line in
// effect outside per-directory sections, or the one-argument Alias form
// inside <Location> (URL is then the section's).
type Alias struct {
	Kind AliasKind
	URL  string // the URL path, or the regex of the Match forms
	// Path is the target, absolute as httpd sees it; for the Match forms
	// the directory before the first $N (every target lies under it).
	Path  string
	VHost *VHost // nil for the main server
	Node  *Node
}

// VHostOf returns the virtual host a node is inside (through Includes),
// or nil for the main server. The node may come from the other view's
// tree of the same load: its <VirtualHost> is then found by position.
func (c *Config) VHostOf(n *Node) *VHost {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Kind != KindSection {
			continue
		}
		if vh, ok := c.vhosts[p]; ok {
			return vh
		}
		if vh, ok := c.vhostAt[p.Pos]; ok && equalFold(p.Name, "VirtualHost") {
			return vh
		}
	}
	return nil
}

// DocumentRootOf returns the DocumentRoot serving vh (nil: the main
// server): its own, else the main server's, absolute and clean as httpd
// sees it; and the line that sets it (nil when none does). A vhost that
// inherits the root gets the main server's line.
func (c *Config) DocumentRootOf(vh *VHost) (string, *Node) {
	if vh != nil {
		return vh.DocumentRoot, vh.docRoot
	}
	return c.DocumentRoot, c.docRoot
}

// InEffect reports whether httpd reads n in this view: neither n (when it
// is a conditional section) nor any conditional section around it is false.
func InEffect(n *Node) bool {
	for p := n; p != nil; p = p.Parent {
		if p.Kind == KindSection && !p.Active && IsConditional(p) {
			return false
		}
	}
	return true
}
