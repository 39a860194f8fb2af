package migrate

import (
	"sort"

	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
	"github.com/modphp-migrate/modphp-migrate/internal/rootfs"
	"github.com/modphp-migrate/modphp-migrate/parser"
)

// HTAccessMode says what plan does with .htaccess PHP settings.
type HTAccessMode string

// The --htaccess values.
const (
	// HTAccessShim keeps .htaccess php_value/php_flag lines for the shim,
	// which applies them per request as mod_php did.
	HTAccessShim HTAccessMode = "shim"
	// HTAccessUserINI moves them to .user.ini where PHP allows it.
	HTAccessUserINI HTAccessMode = "user-ini"
)

// Input is what Build reads.
type Input struct {
	// Today is the tree as configured now; After the same tree without
	// mod_php. Both are needed; After may be nil.
	Today, After *parser.Config
	// FPM is php-fpm's configuration and FPMPath its php-fpm.conf as
	// opened; nil and "" when there is none.
	FPM     *fpmconf.Config
	FPMPath string
	// INI is the php.ini php-fpm reads (with its conf.d), nil when
	// unknown: it says which directives start empty in a worker.
	INI *fpmconf.INI
	// Root is the directory the tree was loaded under (--root), "" for the
	// real filesystem.
	Root string
	// HTAccess is the --htaccess mode (default HTAccessShim).
	HTAccess HTAccessMode
	// Owner returns the owner of a path on disk (already under Root); nil
	// stats the file. Build calls it from two goroutines at once (it looks
	// owners up ahead): it must be safe for concurrent use.
	Owner func(hostPath string) (uid, gid uint32, ok bool)
	// PlacementsOnly builds only what lint judges settings by: the scopes,
	// pools and placements, and of the files only those that receive
	// settings (the pool files and .user.ini). The Apache and shim
	// configuration, module links, wraps and the permission walk are
	// left out, and Notes may lack some.
	PlacementsOnly bool
}

// Plan is the computed migration.
type Plan struct {
	Scopes     []*Scope     `json:"scopes"`
	Pools      []*Pool      `json:"pools"`
	Placements []*Placement `json:"placements"`
	Files      []*File      `json:"files"`
	// Permissions are the changes permissions.sh makes.
	Permissions []Permission `json:"permissions"`
	// Notes are what plan could not do, or did not need to, in words.
	Notes []string `json:"notes"`
	// Shim is set when .htaccess settings stay for the shim: every PHP
	// handler then points at the shim, which routes to the pools.
	Shim *Shim `json:"shim,omitempty"`
	// Routes are the existing URL routes to php-fpm, kept or replaced.
	Routes []*Route `json:"routes"`

	byDir    map[string]*Scope     // ScopeOf's index, built on first use
	fs       *rootfs.Root          // Input.Root
	denyConf string                // the Apache configuration file the denials go to
	denials  map[*Placement]string // the block replacing each engine-off line (TargetDeny)
}

// Shim is how the plan runs modphp-migrate shim.
type Shim struct {
	// Listen is the shim's socket, Config its --config file.
	Listen string `json:"listen"`
	Config string `json:"config"`
	// Pool is the default pool's address; Routes map a scope's directory
	// to its pool's (--pool-for).
	Pool   string            `json:"pool"`
	Routes map[string]string `json:"routes"`
}

// Scope is a part of the server whose PHP runs with one identity and one
// set of pool settings: a virtual host, the main server, or a directory or
// Alias inside them that must differ.
type Scope struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"` // "vhost", "main", "alias" or "directory"
	ServerName string     `json:"server_name,omitempty"`
	Dir        string     `json:"dir"`
	Pos        parser.Pos `json:"pos"`
	Parent     string     `json:"parent,omitempty"`
	User       string     `json:"user"`
	Group      string     `json:"group"`
	// UserFrom says where User comes from: a directive's position,
	// "owner of DIR", or "Apache's User".
	UserFrom string `json:"user_from"`
	Pool     string `json:"pool"`
	// CGIPassAuth is set when the scope's scripts read the Authorization
	// header (PHP_AUTH_USER, HTTP_AUTHORIZATION, getallheaders(), …), or
	// its configuration copies the header into the environment.
	CGIPassAuth bool `json:"cgi_pass_auth"`

	own      bool         // needs its own pool
	userNode *parser.Node // the directive User comes from
	authFrom string       // a script that reads the Authorization header
	authConf bool         // the configuration copies the header for scripts
	byOwner  bool         // a directory scope for another owner
	vhost    *parser.VHost
}

// Pool is a php-fpm pool the plan uses: an existing one that fits, or a
// new one.
type Pool struct {
	Name   string    `json:"name"`
	User   string    `json:"user"`
	Group  string    `json:"group"`
	Listen string    `json:"listen"`
	File   string    `json:"file,omitempty"` // the pool file plan writes; "" when reused as is
	Reused bool      `json:"reused"`
	Scopes []string  `json:"scopes"`
	Values []Setting `json:"values,omitempty"`
}

// Setting is one php_value/php_admin_value line of a pool.
type Setting struct {
	Key    string     `json:"key"`
	Value  string     `json:"value"`
	Admin  bool       `json:"admin"`
	Flag   bool       `json:"flag"`
	Source parser.Pos `json:"source"`
}

// The targets of a Placement.
const (
	TargetPoolAdmin = "pool-admin" // php_admin_value[]/php_admin_flag[] of the scope's pool
	TargetPool      = "pool"       // php_value[]/php_flag[] of the scope's own pool
	TargetUserINI   = "user-ini"   // .user.ini in the directory
	TargetShim      = "shim"       // stays in .htaccess, applied by the shim
	TargetDeny      = "deny"       // engine off: a Require all denied <FilesMatch>
	TargetDropped   = "dropped"    // never applied under mod_php, or PHP 8.2 lacks it
	TargetUnchanged = "unchanged"  // already broken today (500), left as is
)

// Placement says where one PHP setting of the Apache configuration goes.
type Placement struct {
	Source    parser.Pos `json:"source"`
	Directive string     `json:"directive"`
	Key       string     `json:"key"`
	Value     string     `json:"value"`
	Scope     string     `json:"scope,omitempty"`
	Dir       string     `json:"dir,omitempty"`
	Target    string     `json:"target"`
	Pool      string     `json:"pool,omitempty"`
	File      string     `json:"file,omitempty"` // the file that receives it
	Note      string     `json:"note,omitempty"`
	// Wrapped is set when plan puts the line under <IfModule mod_php.c>.
	Wrapped bool `json:"wrapped,omitempty"`

	flag, admin bool
	access      bool // from a .htaccess file
	inFiles     bool // under <Files>/<FilesMatch>
	node        *parser.Node
	dead        *parser.Node // the guard that never matches
}

// File is a file plan creates, changes, links or removes. Path is the
// absolute path on the server.
type File struct {
	Path   string `json:"path"`
	Action string `json:"action"` // "create", "change", "symlink", "remove"
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Link is the target of a symlink.
	Link string `json:"link,omitempty"`
	// Via is the symbolic link the tree reads a changed file through
	// (Path is where it leads, the file that is changed).
	Via string `json:"via,omitempty"`
}

// Permission is one change permissions.sh makes.
type Permission struct {
	Path  string `json:"path"`
	Mode  string `json:"mode"`  // as found, octal
	Owner string `json:"owner"` // as found, user:group
	Why   string `json:"why"`
	Chown string `json:"chown,omitempty"` // new user:group
	Chmod string `json:"chmod,omitempty"` // chmod argument (o-w, u+w)
}

// For returns what the plan does with the configuration line at pos (a
// php_* line of the tree), as the parser reports it (under --root) or as
// the plan does (without): lint asks it to judge a node against the plan.
func (p *Plan) For(pos parser.Pos) []*Placement {
	file := pos.File
	if p.fs != nil {
		file, _ = p.fs.Server(file)
	}
	var out []*Placement
	for _, pl := range p.Placements {
		if pl.Source.File == file && pl.Source.Line == pos.Line {
			out = append(out, pl)
		}
	}
	return out
}

// ForNode is For at a node's position.
func (p *Plan) ForNode(n *parser.Node) []*Placement { return p.For(n.Pos) }

// Denial returns the Apache configuration file (a server path) and the
// block the plan writes there in place of an engine-off line it denies
// (TargetDeny); "" for other placements.
func (p *Plan) Denial(pl *Placement) (file, block string) {
	if b, ok := p.denials[pl]; ok {
		return p.denyConf, b
	}
	return "", ""
}

// ScopeOf returns the scope a server path is served in (the one with the
// longest directory that contains it), or nil.
func (p *Plan) ScopeOf(path string) *Scope {
	if p.byDir == nil {
		p.byDir = make(map[string]*Scope, len(p.Scopes))
		for _, s := range p.Scopes {
			if p.byDir[s.Dir] == nil {
				p.byDir[s.Dir] = s
			}
		}
	}
	for d := clean(path); d != ""; d = parentDir(d) {
		if s := p.byDir[d]; s != nil {
			return s
		}
	}
	return nil
}

// Changed returns the files whose content or link differs after the plan.
func (p *Plan) Changed() []*File {
	var out []*File
	for _, f := range p.Files {
		if f.Action == "change" && f.Before == f.After {
			continue
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
