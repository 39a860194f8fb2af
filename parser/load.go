package parser

import "errors"

// DefaultVersion is the httpd version <IfVersion> is evaluated against
// unless LoadOptions.Version says otherwise (Debian 12's apache2 package).
const DefaultVersion = "2.4.71"

// LoadOptions tune how a tree is read.
type LoadOptions struct {
	// Root is a directory under which every absolute path of the
	// configuration is resolved, like a chroot ("" = the real filesystem).
	// Paths in the model (DocumentRoot, AccessFile.Dir, File.Path) stay as
	// httpd sees them; use Config.HostPath to reach the file on disk.
	Root string
	// Defines are -D names (<IfDefine>, ${NAME} stays undefined).
	Defines []string
	// Version is the httpd version for <IfVersion> (default DefaultVersion).
	Version string
	// AccessFileNames adds names to AccessFileName (default ".htaccess").
	AccessFileNames []string
	// NoAccessFiles skips the discovery of .htaccess files.
	NoAccessFiles bool
}

// Result holds the same tree loaded in both views.
type Result struct {
	Today *Config
	After *Config
}

// ErrNoConfig is returned when a directory holds no apache2.conf,
// httpd.conf or conf/httpd.conf.
var ErrNoConfig = errors.New("no apache2.conf, httpd.conf or conf/httpd.conf found")

// Load reads a server tree from a directory (finding its main file) or a
// main configuration file. Problems in the configuration become
// Diagnostics; the error is only for a path that cannot be used at all.
func Load(path string, opt LoadOptions) (*Result, error) {
	return nil, errors.New("not implemented")
}

// LoadSingle reads one file on its own, as a pre-commit hook sees it: an
// access file (access == true) or a fragment of server configuration. With
// no server around it, <IfModule> is true for every module except PHP
// modules, which are loaded today and gone after mod_php.
func LoadSingle(path string, access bool, opt LoadOptions) (*Result, error) {
	return nil, errors.New("not implemented")
}
